package preview

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

var namespaceGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// discover finds the previews this daemon has in the cluster: namespaces
// labelled tether.dev/preview-of=<instance>, and records of instances
// <instance>-pr-<id>. Those whose refs are gone are torn down at the first
// poll; the others are continued.
func (m *Manager) discover(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	list, err := m.cfg.Applier.Dynamic().Resource(namespaceGVR).List(ctx, metav1.ListOptions{
		LabelSelector: render.LabelPreviewOf + "=" + m.cfg.Instance,
	})
	if err != nil {
		return nil, fmt.Errorf("list preview namespaces: %w", err)
	}
	for _, ns := range list.Items {
		if id := ns.GetLabels()[render.LabelPreview]; validID(id) {
			out[id] = ns.GetAnnotations()[render.AnnotationPreviewRef]
		}
	}
	instances, err := reconcile.Instances(ctx, m.cfg.Applier, m.cfg.InventoryNamespace)
	if err != nil {
		return nil, err
	}
	for _, inst := range instances {
		if id, ok := strings.CutPrefix(inst, m.cfg.Instance+"-pr-"); ok && validID(id) && out[id] == "" {
			out[id] = ""
		}
	}
	return out, nil
}

// validID reports whether id is one render.PreviewID makes: a number, or 8
// hex digits.
func validID(id string) bool {
	if id != "" && render.PreviewID(id) == id {
		return true
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return len(id) == 8
}

// teardown stops preview id, deletes its objects through its inventory,
// then its namespaces and its records' hash key, and reports it. On error it is tried again at the
// next poll.
func (m *Manager) teardown(ctx context.Context, id, reason string) error {
	m.mu.Lock()
	p := m.running[id]
	delete(m.running, id)
	target := Target{ID: id, Ref: m.present[id]}
	if p != nil {
		p.mu.Lock()
		target = p.target
		p.mu.Unlock()
	}
	m.deleting[id] = target
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.deleting, id)
		m.mu.Unlock()
	}()
	ref := &reconcile.PreviewRef{ID: id, Ref: target.Ref}
	if p != nil {
		p.stop() // its records are saved before it returns
		ref = p.ref()
	}
	m.present[id] = target.Ref // until it is gone
	if err := m.drain(ctx, id, target.Revision, ref); err != nil {
		return err
	}
	inv := reconcile.NewInventory(m.cfg.Applier, m.cfg.InventoryNamespace, m.instance(id))
	if err := inv.Forget(ctx); err != nil {
		return err
	}
	if err := m.deleteNamespaces(ctx, id, ref, inv.PartOf(render.KindBundleUnit, render.PreviewNamespacesUnit)); err != nil {
		return err
	}
	delete(m.present, id)
	if err := os.RemoveAll(filepath.Join(m.cfg.WorkDir, id)); err != nil {
		m.cfg.Log.Warn("preview checkout not removed", "preview", id, "err", err)
	}
	m.emit(reconcile.Event{Type: reconcile.EventPreviewDeleted, Time: time.Now(), Revision: target.Revision, Message: reason, Preview: ref})
	return nil
}

// drain deletes everything preview id's inventory records, with a fresh
// loop of its instance driven by Once: first a pass rendering only its
// namespaces unit, suspended, so that the models' objects go and the
// namespaces stay; then a pass rendering nothing, for the namespaces and
// their quotas. Every delete is the ownership-checked prune of any revision.
func (m *Manager) drain(ctx context.Context, id, revision string, ref *reconcile.PreviewRef) error {
	keepNamespaces := true
	loop := reconcile.NewLoop(reconcile.Config{
		Source: fixedSource{revision}, Applier: m.cfg.Applier,
		Inventory: reconcile.NewInventory(m.cfg.Applier, m.cfg.InventoryNamespace, m.instance(id)),
		Render: func(source.Snapshot, render.Hooks) (*render.Result, error) {
			res := &render.Result{Settings: render.Settings{AllowMassPrune: true}}
			if keepNamespaces {
				res.Units = []render.Unit{{Name: render.PreviewNamespacesUnit, Kind: render.KindBundleUnit, Suspend: true}}
			}
			return res, nil
		},
		Interval: time.Second, Prune: true, MaxPrune: reconcile.PruneLimit{Percent: 100}, Leader: m.cfg.Leader,
		Log: m.cfg.Log.With("preview", id), Events: func(ev reconcile.Event) { ev.Preview = ref; m.emit(ev) },
		Metrics: reconcile.NewMetrics(nil),
	})
	dctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the watches Once started
	loop.Once(dctx)
	if left := loop.Units(); len(left) > 1 || (len(left) == 1 && left[0] != render.PreviewNamespacesUnit) {
		return fmt.Errorf("preview %s: the objects of %s are not all deleted yet", id, strings.Join(left, ", "))
	}
	keepNamespaces = false
	loop.Once(dctx)
	if left := loop.Units(); len(left) > 0 {
		return fmt.Errorf("preview %s: the namespaces are not all deleted yet", id)
	}
	return nil
}

// deleteNamespaces deletes the namespaces still labelled as preview id's
// (their records were lost), each only as the object that was listed and
// only if the preview's namespaces unit applied it (its part-of label, as
// every prune checks): a namespace labelled so by anyone else is left in
// place and reported.
func (m *Manager) deleteNamespaces(ctx context.Context, id string, ref *reconcile.PreviewRef, partOf string) error {
	client := m.cfg.Applier.Dynamic().Resource(namespaceGVR)
	list, err := client.List(ctx, metav1.ListOptions{
		LabelSelector: render.LabelPreviewOf + "=" + m.cfg.Instance + "," + render.LabelPreview + "=" + id,
	})
	if err != nil {
		return fmt.Errorf("preview %s: list namespaces: %w", id, err)
	}
	for _, ns := range list.Items {
		if ns.GetDeletionTimestamp() != nil {
			continue
		}
		if got := ns.GetLabels()[reconcile.LabelApplySetPartOf]; got != partOf {
			key := reconcile.Key{Kind: "Namespace", Name: ns.GetName()}
			m.emit(reconcile.Event{Type: reconcile.EventPruneSkipped, Time: time.Now(), Unit: render.PreviewNamespacesUnit, Count: 1,
				Objects: []reconcile.Key{key}, Preview: ref,
				Message: fmt.Sprintf("not tether's: %s is %q, not this preview's %q", reconcile.LabelApplySetPartOf, got, partOf)})
			continue
		}
		uid, version := ns.GetUID(), ns.GetResourceVersion()
		err := client.Delete(ctx, ns.GetName(), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &version}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("Namespace/%s: delete: %w", ns.GetName(), err)
		}
	}
	return nil
}

// fixedSource hands a teardown loop the same revision at every pass, as
// changed, so that every pass renders.
type fixedSource struct{ revision string }

func (s fixedSource) Sync(context.Context) (source.Snapshot, bool, error) {
	return source.Snapshot{Revision: s.revision}, true, nil
}
