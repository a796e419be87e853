package plan

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// fixedSource hands the daemon's loop one revision.
type fixedSource struct{ rev string }

func (s fixedSource) Sync(context.Context) (source.Snapshot, bool, error) {
	return source.Snapshot{Revision: s.rev}, true, nil
}

// liveFixture is a namespace of the shared cluster and the clients Live uses.
type liveFixture struct {
	t   *testing.T
	ns  string
	cs  kubernetes.Interface
	c   Cluster
	ctx context.Context
}

func newLiveFixture(t *testing.T) *liveFixture {
	t.Helper()
	ctx := t.Context()
	cfg := cluster.Shared().Config
	cs := kubernetes.NewForConfigOrDie(cfg)
	ns := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	applier, err := reconcile.NewApplier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &liveFixture{t: t, ns: ns, cs: cs, ctx: ctx, c: Cluster{Applier: applier, Inventory: reconcile.NewInventory(applier, ns, "plan-test")}}
}

// deploy runs the daemon's loop on rev until every unit is recorded, then stops it.
func (f *liveFixture) deploy(rev Revision) {
	f.t.Helper()
	ctx, cancel := context.WithCancel(f.ctx)
	loop := reconcile.NewLoop(reconcile.Config{
		Source: fixedSource{rev.Commit}, Render: func(source.Snapshot, render.Hooks) (*render.Result, error) { return rev.Result, nil },
		Applier: f.c.Applier, Inventory: f.c.Inventory, Interval: time.Hour, Prune: true, MaxPrune: reconcile.PruneLimit{Percent: 50},
	})
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if recs, err := f.c.Inventory.Records(f.ctx); err == nil && len(recs) == len(rev.Result.Units) {
			return
		}
	}
	f.t.Fatal("the loop did not record every unit within 30s")
}

// TestLive: what only the cluster knows. A Secret changed in the cluster is
// drift whose values never show; an object deleted in the cluster is created
// again; a recorded object without its part-of label is not pruned; a unit
// the inventory records but neither revision renders is pruned; a custom
// resource whose CRD the change creates is not dry-run.
func TestLive(t *testing.T) {
	f := newLiveFixture(t)
	ns := f.ns
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: " + ns + "}\nstringData: {password: hunter2}\n"
	orphan := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: orphan, namespace: " + ns + "}\ndata: {a: b}\n"
	crd := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]
`
	widget := "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: " + ns + "}\nspec: {size: 1}\n"
	settings := files{"tether.yaml": "bundles: [bundles/platform]\n", "models/m/model.yaml": model(pinned, 1)}
	base := settings.with(bundle("platform", secret, orphan))
	deployed := base.with(files{"models/gone/model.yaml": model(pinned, 1)})
	head := settings.with(bundle("platform", secret, crd, widget))
	f.deploy(renderedIn(t, "deployed", ns, deployed))

	stolen := base64.StdEncoding.EncodeToString([]byte("stolen-value"))
	patch := `{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},"data":{"password":"` + stolen + `"}}`
	if _, err := f.cs.CoreV1().Secrets(ns).Patch(f.ctx, "creds", types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "intruder"}); err != nil {
		t.Fatal(err)
	}
	if err := f.cs.CoreV1().Services(ns).Delete(f.ctx, "m", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	unlabel := `{"metadata":{"labels":{"applyset.kubernetes.io/part-of":null}}}`
	if _, err := f.cs.CoreV1().ConfigMaps(ns).Patch(f.ctx, "orphan", types.MergePatchType, []byte(unlabel), metav1.PatchOptions{FieldManager: "intruder"}); err != nil {
		t.Fatal(err)
	}

	p, err := Live(f.ctx, renderedIn(t, "base", ns, base), renderedIn(t, "head", ns, head), Options{MaxPrune: reconcile.PruneLimit{Percent: 50}}, f.c)
	if err != nil {
		t.Fatal(err)
	}
	if p.ExitCode != ExitChanges {
		t.Errorf("exit %d, want %d\n%s", p.ExitCode, ExitChanges, p.Text())
	}
	creds := objectByName(t, unitByName(t, p, "platform"), "Secret/"+ns+"/creds")
	if creds.Action != ActionUpdate || len(creds.Drift) != 1 || creds.Drift[0].Path != "data.password" || creds.Drift[0].Live != reconcile.Masked ||
		creds.Drift[0].Manager != "intruder" || !strings.Contains(creds.Diff, "+  password: <hidden> (changed)") ||
		!strings.Contains(creds.Diff, "kind: Secret\n") {
		t.Errorf("Secret: %s, drift %+v, diff:\n%s", creds.Action, creds.Drift, creds.Diff)
	}
	data, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{p.Markdown(0, ""), p.Text(), string(data)} {
		for _, leak := range []string{"hunter2", "aHVudGVyMg", "stolen-value", stolen} {
			if strings.Contains(out, leak) {
				t.Errorf("a plan shows the Secret value %q", leak)
			}
		}
	}
	svc := objectByName(t, unitByName(t, p, "m"), "Service/"+ns+"/m")
	if svc.Action != ActionCreate || !svc.DriftUndone || !strings.Contains(strings.Join(svc.Notes, ""), "missing in the cluster") {
		t.Errorf("a Service deleted in the cluster: %s, driftUndone %v, notes %q", svc.Action, svc.DriftUndone, svc.Notes)
	}
	if o := objectByName(t, unitByName(t, p, "platform"), "ConfigMap/"+ns+"/orphan"); o.Action != ActionUnchanged || !strings.Contains(strings.Join(o.Notes, ""), "not pruned") {
		t.Errorf("a member without its part-of label: %s, notes %q", o.Action, o.Notes)
	}
	gone := unitByName(t, p, "gone")
	if gone.Status != StatusRemoved || len(gone.Objects) != 2 || gone.Objects[0].Action != ActionDelete {
		t.Errorf("a recorded unit in neither revision: %s, objects %+v", gone.Status, gone.Objects)
	}
	if p.Guard.Deletions != 2 || p.Guard.Managed != 6 {
		t.Errorf("guard %+v, want 2 of 6 recorded objects deleted", p.Guard)
	}
	w := objectByName(t, unitByName(t, p, "platform"), "Widget/"+ns+"/w")
	if w.Action != ActionCreate || w.Error != "" || !strings.Contains(strings.Join(w.Notes, ""), "CustomResourceDefinition this change creates") {
		t.Errorf("a Widget whose CRD is new: %s, error %q, notes %q", w.Action, w.Error, w.Notes)
	}
	if o := objectByName(t, unitByName(t, p, "platform"), "CustomResourceDefinition/widgets.example.com"); o.Action != ActionCreate || o.blocked() {
		t.Errorf("the new CRD: %s, blockers %q, error %q", o.Action, o.Blockers, o.Error)
	}
}
