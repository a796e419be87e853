package reconcile

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// lostRecords are units whose record someone else deleted while the loop
// runs; the next pass writes them again, whether or not the head moved
// (found by the fault suite: otherwise a restart adopts the unit's objects,
// and one that then leaves Git is never pruned).
type lostRecords struct {
	mu    sync.Mutex
	units map[string]bool
}

func (r *lostRecords) add(unit string) {
	r.mu.Lock()
	if r.units == nil {
		r.units = map[string]bool{}
	}
	r.units[unit] = true
	r.mu.Unlock()
}

// take returns the lost units and forgets them.
func (r *lostRecords) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := sortedKeys(r.units)
	r.units = nil
	return out
}

func (r *lostRecords) any() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.units) > 0
}

// watchRecords watches this instance's records, so that one deleted by
// someone else is written again at once.
func (l *Loop) watchRecords(ctx context.Context) {
	inv := l.cfg.Inventory
	factory := informers.NewSharedInformerFactoryWithOptions(inv.applier.clientset, 0, informers.WithNamespace(inv.namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = LabelInstance + "=" + inv.instance }),
		informers.WithTransform(slimRecord))
	inf := factory.Core().V1().ConfigMaps().Informer()
	_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		l.cfg.Log.Error("watch of the inventory records failed: a record deleted by hand is written again only at the next change", "err", err)
	})
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: l.recordDeleted})
	factory.Start(ctx.Done())
}

// recordDeleted notes a deleted record of a unit tether still manages (its
// own deletions, of units that left Git, are of units it forgot already).
func (l *Loop) recordDeleted(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return
	}
	rec, err := decodeParent(cm)
	if err != nil {
		return
	}
	st, found := l.state.unit(rec.Unit)
	if !found || st.recordUID != cm.UID && st.recordUID != "" {
		return
	}
	l.state.update(rec.Unit, st.kind, func(s *unitState) { s.recordVersion, s.recordUID = "", "" })
	l.lost.add(rec.Unit)
	l.cfg.Log.Warn("inventory record deleted by someone else: writing it again", "model", rec.Unit)
	l.Wake()
}
