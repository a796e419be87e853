package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/gitrepo"
)

// modelSpec is a model with training and serving: a Job, a Deployment and a Service.
func modelSpec(name string) string {
	return fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: %s}
spec:
  image: %s
  training: {command: [python, train.py], dataset: "s3://data/%s"}
  serving: {port: 8080, replicas: 1}
`, name, fraudImage, name)
}

// TestKilledMidApplyConverges: a daemon SIGKILLed while applying leaves
// nothing behind that a restarted daemon loses track of or applies twice.
func TestKilledMidApplyConverges(t *testing.T) {
	ctx := context.Background()
	cs := clientset(t)
	ns := newNamespace(t, cs)
	const models = 40
	files := map[string]string{}
	for i := range models {
		name := fmt.Sprintf("m%02d", i)
		files["models/"+name+"/model.yaml"] = modelSpec(name)
	}
	repo := gitrepo.New(t)
	repo.Commit(files)
	args := []string{"--repo", repo.Dir, "--interval", "1s", "--default-namespace", ns}

	first := startDaemon(t, args...)
	eventually(t, 20*time.Second, "first objects applied", func() (bool, error) { return countApplied(ctx, t, cs, ns) >= 10, nil })
	if err := first.Kill(); err != nil {
		t.Fatal(err)
	}
	applied := countApplied(ctx, t, cs, ns)
	if applied >= 3*models {
		t.Fatalf("the daemon finished (%d objects) before it was killed; the test needs a partial apply", applied)
	}
	t.Logf("killed after %d of %d objects", applied, 3*models)

	second := startDaemon(t, args...)
	eventually(t, 30*time.Second, "restarted daemon reconciled the revision", func() (bool, error) {
		return len(second.find("revision reconciled", map[string]string{"failed": "0"})) > 0, nil
	})
	deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parents, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "tether.dev/inventory"})
	if err != nil {
		t.Fatal(err)
	}
	if len(deps.Items) != models || len(jobs.Items) != models || len(parents.Items) != models {
		t.Errorf("after restart: %d deployments, %d jobs, %d inventory records; want %d of each",
			len(deps.Items), len(jobs.Items), len(parents.Items), models)
	}
	if second.get(t, "/status") != http.StatusOK {
		t.Error("/status not served")
	}
}

// countApplied counts the Deployments, Services and Jobs in ns: the objects
// the daemon has written so far.
func countApplied(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) int {
	t.Helper()
	deps, err1 := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	svcs, err2 := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	jobs, err3 := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	return len(deps.Items) + len(svcs.Items) + len(jobs.Items)
}
