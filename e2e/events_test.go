package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-ml/tether/e2e/cluster"
)

// TestKubernetesEvents (issue 12): a reverted drift and an invalid model are
// recorded as events.k8s.io Events by tether.dev/tether, on the object and on
// the model's inventory record, where kubectl describe finds them.
func TestKubernetesEvents(t *testing.T) {
	ctx := context.Background()
	cs := clientset(t)
	ns := newNamespace(t, cs)
	repo, _ := exampleRepo(t)
	startDaemon(t, "--repo", repo.Dir, "--default-namespace", ns, "--interval", "1s", "--instance", "events")
	eventually(t, 30*time.Second, "churn-scorer applied", func() (bool, error) {
		_, err := cs.AppsV1().Deployments(ns).Get(ctx, "churn-scorer", metav1.GetOptions{})
		return err == nil, nil
	})
	_, err := cs.AppsV1().Deployments(ns).Patch(ctx, "churn-scorer", types.StrategicMergePatchType,
		[]byte(`{"spec":{"replicas":7}}`), metav1.PatchOptions{FieldManager: "e2e-intruder"})
	if err != nil {
		t.Fatal(err)
	}
	repo.Commit(map[string]string{"models/broken/model.yaml": "apiVersion: tether.dev/v1alpha1\nkind: Model\nspec: {}\n"})

	record := "tether-events-model-churn-scorer"
	eventually(t, 20*time.Second, "DriftReverted on the Deployment and on its record", func() (bool, error) {
		return hasEvent(ctx, t, ns, "Deployment", "churn-scorer", "DriftReverted", "e2e-intruder") &&
			hasEvent(ctx, t, ns, "ConfigMap", record, "DriftReverted", "spec.replicas"), nil
	})
	eventually(t, 20*time.Second, "InvalidModel on the broken model's record", func() (bool, error) {
		return hasEvent(ctx, t, ns, "ConfigMap", "tether-events-model-broken", "InvalidModel", "spec.image"), nil
	})
	out, err := exec.Command(filepath.Join(cluster.Shared().BinDir, "kubectl"), "--kubeconfig", cluster.Shared().Kubeconfig,
		"-n", ns, "describe", "deployment", "churn-scorer").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "DriftReverted") || !strings.Contains(string(out), "tether.dev/tether") {
		t.Errorf("kubectl describe shows no DriftReverted by tether.dev/tether (err %v):\n%s", err, out)
	}
}

// hasEvent reports whether tether recorded an Event with reason about the
// object, whose note contains want.
func hasEvent(ctx context.Context, t *testing.T, ns, kind, name, reason, want string) bool {
	t.Helper()
	list, err := clientset(t).EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range list.Items {
		if matches(ev, kind, name, reason) && strings.Contains(ev.Note, want) {
			return true
		}
	}
	return false
}

func matches(ev eventsv1.Event, kind, name, reason string) bool {
	return ev.ReportingController == "tether.dev/tether" && ev.Reason == reason && ev.Regarding.Kind == kind && ev.Regarding.Name == name
}
