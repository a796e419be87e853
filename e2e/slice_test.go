package e2e

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/gitrepo"
)

const (
	fraudImage  = "registry.example.com/fraud@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	churnImage  = "registry.example.com/churn@sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
	churnImage2 = "registry.example.com/churn@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
	intruder    = "e2e-intruder"
)

// TestSlice runs the daemon on the example models and checks apply, drift
// revert and a new commit, end to end.
func TestSlice(t *testing.T) {
	ctx := context.Background()
	cs := clientset(t)
	ns := newNamespace(t, cs)
	repo, first := exampleRepo(t)
	server := gitrepo.Serve(t, repo.Dir)

	d := startDaemon(t, "--repo", server.URL, "--branch", "main", "--interval", "1s", "--default-namespace", ns)
	eventually(t, 20*time.Second, "/readyz answers 200", func() (bool, error) { return d.get(t, "/readyz") == http.StatusOK, nil })
	eventually(t, 10*time.Second, "first revision reconciled", func() (bool, error) {
		return len(d.find("revision reconciled", map[string]string{"revision": first})) > 0, nil
	})

	t.Run("applies every rendered object with tether's metadata", func(t *testing.T) {
		deploy, err := cs.AppsV1().Deployments(ns).Get(ctx, "fraud-detector", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		assertTetherObject(t, deploy.ObjectMeta, "fraud-detector", "serving", first)
		svc, err := cs.CoreV1().Services(ns).Get(ctx, "churn-scorer", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		assertTetherObject(t, svc.ObjectMeta, "churn-scorer", "serving", first)
		if svc.Spec.Ports[0].Port != 80 || svc.Spec.Ports[0].TargetPort.IntValue() != 9000 {
			t.Errorf("service ports = %+v, want 80 -> 9000", svc.Spec.Ports)
		}
		jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: "tether.dev/model=fraud-detector"})
		if err != nil || len(jobs.Items) != 1 || !strings.HasPrefix(jobs.Items[0].Name, "fraud-detector-train-") {
			t.Fatalf("want one content-addressed training job, got %v (%v)", jobs, err)
		}
		assertTetherObject(t, jobs.Items[0].ObjectMeta, "fraud-detector", "training", first)
	})

	t.Run("deployments become available on the fake nodes", func(t *testing.T) {
		eventually(t, 60*time.Second, "fraud-detector available", func() (bool, error) {
			dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "fraud-detector", metav1.GetOptions{})
			return err == nil && dep.Status.AvailableReplicas == 2, err
		})
	})

	t.Run("reverts replicas changed by another manager", func(t *testing.T) {
		patch(t, cs, ns, "fraud-detector", `{"spec":{"replicas":5}}`)
		took := eventually(t, 2*time.Second, "replicas back to 2", func() (bool, error) {
			dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "fraud-detector", metav1.GetOptions{})
			return err == nil && *dep.Spec.Replicas == 2, err
		})
		t.Logf("replicas reverted %s after the patch", took)
		assertDriftLogged(t, d, ns, "fraud-detector", "spec.replicas")
	})

	t.Run("reverts a container image changed by another manager", func(t *testing.T) {
		patch(t, cs, ns, "churn-scorer", `{"spec":{"template":{"spec":{"containers":[{"name":"serve","image":"evil:latest"}]}}}}`)
		took := eventually(t, 2*time.Second, "image restored", func() (bool, error) {
			dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "churn-scorer", metav1.GetOptions{})
			return err == nil && dep.Spec.Template.Spec.Containers[0].Image == churnImage, err
		})
		t.Logf("image reverted %s after the patch", took)
		assertDriftLogged(t, d, ns, "churn-scorer", `spec.template.spec.containers[name="serve"].image`)
	})

	t.Run("applies a new commit and leaves unchanged objects alone", func(t *testing.T) {
		before, err := cs.AppsV1().Deployments(ns).Get(ctx, "fraud-detector", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		spec := strings.Replace(readFile(t, repo.Dir+"/models/churn-scorer/model.yaml"), churnImage, churnImage2, 1)
		second := repo.Commit(map[string]string{"models/churn-scorer/model.yaml": spec})
		took := eventually(t, 2*time.Second+2*time.Second, "new image applied within two intervals", func() (bool, error) {
			dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "churn-scorer", metav1.GetOptions{})
			return err == nil && dep.Spec.Template.Spec.Containers[0].Image == churnImage2 && dep.Annotations["tether.dev/revision"] == second, err
		})
		t.Logf("commit applied %s after the push", took)
		after, err := cs.AppsV1().Deployments(ns).Get(ctx, "fraud-detector", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if after.Annotations["tether.dev/revision"] != first || after.Generation != before.Generation {
			t.Errorf("unchanged model was rewritten: revision %s (want %s), generation %d -> %d",
				after.Annotations["tether.dev/revision"], first, before.Generation, after.Generation)
		}
	})
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	out, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func patch(t *testing.T, cs kubernetes.Interface, ns, name, body string) {
	t.Helper()
	_, err := cs.AppsV1().Deployments(ns).Patch(context.Background(), name, types.StrategicMergePatchType, []byte(body), metav1.PatchOptions{FieldManager: intruder})
	if err != nil {
		t.Fatal(err)
	}
}

// assertTetherObject checks labels, annotations and tether's Apply entry.
func assertTetherObject(t *testing.T, m metav1.ObjectMeta, model, component, revision string) {
	t.Helper()
	want := map[string]string{
		"app.kubernetes.io/name": model, "app.kubernetes.io/component": component,
		"app.kubernetes.io/managed-by": "tether", "tether.dev/model": model,
	}
	for k, v := range want {
		if m.Labels[k] != v {
			t.Errorf("%s: label %s = %q, want %q", m.Name, k, m.Labels[k], v)
		}
	}
	if m.Annotations["tether.dev/revision"] != revision || m.Annotations["tether.dev/source"] != "models/"+model {
		t.Errorf("%s: annotations %v, want revision %s and source models/%s", m.Name, m.Annotations, revision, model)
	}
	for _, e := range m.ManagedFields {
		if e.Manager == "tether" && e.Operation == metav1.ManagedFieldsOperationApply {
			return
		}
	}
	t.Errorf("%s: no Apply entry for manager tether in managedFields", m.Name)
}

// assertDriftLogged checks that the revert was reported with its field and the intruder's name.
func assertDriftLogged(t *testing.T, d *daemon, ns, name, field string) {
	t.Helper()
	object := "Deployment/" + ns + "/" + name
	eventually(t, 2*time.Second, "drift reverted event logged", func() (bool, error) {
		for _, l := range d.find("drift reverted", map[string]string{"object": object, "manager": intruder, "action": "reverted"}) {
			if strings.Contains(l["diff"].(string), field) {
				return true, nil
			}
		}
		return false, nil
	})
}
