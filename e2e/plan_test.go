package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/reconcile/plan"
)

// planFiles is a models repository in namespace ns: the example churn-scorer
// model and a bundle with a Service and a ConfigMap.
func planFiles(t *testing.T, ns string) map[string]string {
	return map[string]string{
		"tether.yaml":                         "bundles: [bundles/platform]\n",
		"models/churn-scorer/model.yaml":      readFile(t, "../examples/models/models/churn-scorer/model.yaml"),
		"bundles/platform/kustomization.yaml": "resources: [db.yaml, settings.yaml]\n",
		"bundles/platform/db.yaml":            "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: " + ns + "}\nspec:\n  ports: [{port: 5432}]\n",
		"bundles/platform/settings.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: " + ns + "}\ndata: {mode: fast}\n",
	}
}

// TestPlanCluster: `tether plan --cluster` against what the daemon applied:
// live drift shows as undone, a namespace the change creates is handled, a
// dry-run the API server refuses is a blocker, and nothing is written.
func TestPlanCluster(t *testing.T) {
	ctx := context.Background()
	cs := clientset(t)
	ns := newNamespace(t, cs)
	created := ns + "-new"
	repo := gitrepo.New(t)
	repo.Commit(planFiles(t, ns))
	deployOnce(t, repo.Dir, ns, 2)
	drift := `{"metadata":{"labels":{"team":"hacked"}}}`
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "churn-scorer", types.MergePatchType, []byte(drift), metav1.PatchOptions{FieldManager: "intruder"}); err != nil {
		t.Fatal(err)
	}

	scaled := strings.Replace(readFile(t, "../examples/models/models/churn-scorer/model.yaml"), "replicas: 1", "replicas: 2", 1)
	repo.Git("checkout", "-q", "-b", "pr")
	repo.Commit(map[string]string{
		"models/churn-scorer/model.yaml":      scaled,
		"bundles/platform/settings.yaml":      "",
		"bundles/platform/kustomization.yaml": "resources: [db.yaml]\n",
		"tether.yaml":                         "bundles: [bundles/platform, bundles/extra]\n",
		"bundles/extra/kustomization.yaml":    "resources: [ns.yaml, flags.yaml]\n",
		"bundles/extra/ns.yaml":               "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + created + "}\n",
		"bundles/extra/flags.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags, namespace: " + created + "}\ndata: {beta: \"on\"}\n",
	})
	repo.Git("checkout", "-q", "-b", "headless")
	repo.Commit(map[string]string{"bundles/platform/db.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: " + ns + "}\nspec:\n  clusterIP: None\n  ports: [{port: 5432}]\n"})

	before := settled(t, ns, created)
	args := []string{"plan", "--repo", repo.Dir, "--base", "main", "--default-namespace", ns, "--kubeconfig", cluster.Shared().Kubeconfig}
	live := append(slices.Clone(args), "--cluster")

	t.Run("the pull request against the cluster", func(t *testing.T) {
		p := runPlanJSON(t, plan.ExitChanges, append(live, "--head", "pr")...)
		dep := findObject(t, p, "Deployment/"+ns+"/churn-scorer")
		want := []plan.FieldChange{{Path: "metadata.labels.team", Git: "growth", Live: "hacked", Manager: "intruder"}}
		if dep.Action != plan.ActionUpdate || !dep.DriftUndone || !cmp.Equal(want, dep.Drift) {
			t.Errorf("Deployment: %s, driftUndone %v, drift %+v; want an update undoing %+v", dep.Action, dep.DriftUndone, dep.Drift, want)
		}
		for _, line := range []string{"--- live/Deployment/" + ns + "/churn-scorer", "-    team: hacked", "+    team: growth", "-  replicas: 1", "+  replicas: 2"} {
			if !strings.Contains(dep.Diff, line+"\n") {
				t.Errorf("Deployment diff lacks %q:\n%s", line, dep.Diff)
			}
		}
		if o := findObject(t, p, "ConfigMap/"+ns+"/settings"); o.Action != plan.ActionDelete {
			t.Errorf("settings: %s, want delete (prune)", o.Action)
		}
		if o := findObject(t, p, "Namespace/"+created); o.Action != plan.ActionCreate || o.Error != "" {
			t.Errorf("the new namespace: %s %q, want a dry-run create", o.Action, o.Error)
		}
		flags := findObject(t, p, "ConfigMap/"+created+"/flags")
		if flags.Action != plan.ActionCreate || flags.Error != "" || !strings.Contains(strings.Join(flags.Notes, " "), "which this change creates") {
			t.Errorf("a ConfigMap in the new namespace: %s, error %q, notes %q", flags.Action, flags.Error, flags.Notes)
		}
		if g := p.Guard; g.Deletions != 1 || g.Managed != 4 || g.Blocked {
			t.Errorf("guard %+v, want 1 of 4 recorded objects deleted, not blocked", g)
		}
		if o := findObject(t, p, "Service/"+ns+"/churn-scorer"); o.Action != plan.ActionUnchanged || o.Diff != "" {
			t.Errorf("an untouched Service: %s\n%s", o.Action, o.Diff)
		}
	})
	t.Run("no Git change, live drift only", func(t *testing.T) {
		p := runPlanJSON(t, plan.ExitChanges, append(live, "--head", "main")...)
		if !strings.Contains(p.Summary, "drift undone on 1 object") {
			t.Errorf("summary %q", p.Summary)
		}
		runPlanJSON(t, plan.ExitNoChanges, append(args, "--head", "main")...) // offline sees no change
	})
	t.Run("a dry-run the API server refuses is a blocker", func(t *testing.T) {
		p := runPlanJSON(t, plan.ExitFailed, append(live, "--head", "headless")...)
		o := findObject(t, p, "Service/"+ns+"/db")
		if len(o.Blockers) != 1 || !strings.Contains(o.Blockers[0], "the API server refuses it") || !strings.Contains(o.Blockers[0], "clusterIP") {
			t.Errorf("Service db: %s, blockers %q, error %q", o.Action, o.Blockers, o.Error)
		}
	})
	t.Run("markdown", func(t *testing.T) {
		out, _ := runPlan(t, append(live, "--head", "pr", "--format", "markdown")...)
		if !strings.HasPrefix(out, "<!-- tether-plan cluster -->\n### tether plan: 1 model changed; 1 bundle changed, 1 added") {
			t.Errorf("markdown:\n%s", out)
		}
		t.Logf("the plan as a pull-request comment:\n%s", out)
	})
	if diff := cmp.Diff(before, snapshot(t, ns, created)); diff != "" {
		t.Errorf("tether plan --cluster changed the cluster (-before +after):\n%s", diff)
	}
}

// deployOnce runs the daemon on the repository in dir until it recorded
// units units in namespace ns, then stops it.
func deployOnce(t *testing.T, dir, ns string, units int) {
	t.Helper()
	d := startDaemon(t, "--repo", dir, "--default-namespace", ns, "--interval", "1h")
	eventually(t, 30*time.Second, "every unit applied and recorded", func() (bool, error) {
		recs, err := clientset(t).CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "tether.dev/inventory"})
		return err == nil && len(recs.Items) == units, err
	})
	d.stop(t)
}

// runPlan runs tether with args and returns its stdout and exit code.
func runPlan(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(tetherBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return stdout.String(), exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	return stdout.String(), 0
}

// runPlanJSON runs a plan as JSON, checks its exit code and decodes it.
func runPlanJSON(t *testing.T, code int, args ...string) *plan.Plan {
	t.Helper()
	out, got := runPlan(t, append(args, "--format", "json")...)
	p := &plan.Plan{}
	if err := json.Unmarshal([]byte(out), p); err != nil {
		t.Fatalf("exit %d, output not JSON (%v):\n%s", got, err, out)
	}
	if got != code || p.ExitCode != code {
		t.Errorf("exit %d (plan says %d), want %d; summary %q, errors %q", got, p.ExitCode, code, p.Summary, p.Errors)
	}
	return p
}

func findObject(t *testing.T, p *plan.Plan, key string) *plan.Object {
	t.Helper()
	for _, u := range p.Units {
		for i := range u.Objects {
			if u.Objects[i].String() == key {
				return &u.Objects[i]
			}
		}
	}
	t.Fatalf("%s is not in the plan (summary %q)", key, p.Summary)
	return nil
}

// settled waits until the controllers are done with the namespaces (two
// snapshots in a row agree) and returns that snapshot.
func settled(t *testing.T, namespaces ...string) map[string]string {
	t.Helper()
	last := snapshot(t, namespaces...)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		next := snapshot(t, namespaces...)
		if cmp.Equal(last, next) {
			return next
		}
		last = next
	}
	t.Fatal("the namespaces did not settle within 30s")
	return nil
}

// snapshot maps every object in the namespaces (and the namespaces) to its
// resourceVersion; events are left out (they are no object anyone applies).
func snapshot(t *testing.T, namespaces ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	cfg := rest.CopyConfig(cluster.Shared().Config)
	cfg.WarningHandler = rest.NoWarnings{} // v1 Endpoints is deprecated, and listed all the same
	lists, err := discovery.NewDiscoveryClientForConfigOrDie(cfg).ServerPreferredNamespacedResources()
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(cfg)
	out := map[string]string{}
	for _, l := range lists {
		gv, _ := schema.ParseGroupVersion(l.GroupVersion)
		for _, r := range l.APIResources {
			if !slices.Contains(r.Verbs, "list") || r.Name == "events" {
				continue
			}
			for _, ns := range namespaces {
				items, err := dyn.Resource(gv.WithResource(r.Name)).Namespace(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					t.Fatalf("list %s in %s: %v", r.Name, ns, err)
				}
				for _, it := range items.Items {
					out[fmt.Sprintf("%s.%s %s/%s", r.Name, gv.Group, ns, it.GetName())] = it.GetResourceVersion()
				}
			}
		}
	}
	for _, ns := range namespaces {
		n, err := clientset(t).CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out["namespace "+ns] = n.ResourceVersion
	}
	return out
}
