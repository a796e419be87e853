package reconcile

import (
	"bytes"
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/tether-ml/tether/render"
)

// Watcher watches every kind tether applied, selected by the managed-by label,
// and hands each object that may have drifted to a worker.
type Watcher struct {
	factory dynamicinformer.DynamicSharedInformerFactory
	queue   workqueue.TypedRateLimitingInterface[Key]
	state   *state

	mu       sync.Mutex
	watching map[schema.GroupVersionResource]bool
	byKind   map[schema.GroupKind]cache.GenericLister
	ctx      context.Context
}

// newWatcher builds a watcher; nothing is watched until watch is called.
func newWatcher(dyn dynamic.Interface, st *state) *Watcher {
	selector := render.LabelManagedBy + "=" + render.ManagedByTether
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, metav1.NamespaceAll, func(o *metav1.ListOptions) {
		o.LabelSelector = selector
	})
	// A per-object exponential backoff (5 ms doubling to 30 s) means an actor
	// fighting tether over one object is slowed down, never a hot loop; an
	// object that stops drifting starts again at 5 ms.
	limiter := workqueue.NewTypedItemExponentialFailureRateLimiter[Key](5*time.Millisecond, 30*time.Second)
	return &Watcher{
		factory:  factory,
		queue:    workqueue.NewTypedRateLimitingQueue(limiter),
		state:    st,
		watching: map[schema.GroupVersionResource]bool{},
		byKind:   map[schema.GroupKind]cache.GenericLister{},
	}
}

// start records the context informers run under.
func (w *Watcher) start(ctx context.Context) {
	w.mu.Lock()
	w.ctx = ctx
	w.mu.Unlock()
	go func() {
		<-ctx.Done()
		w.queue.ShutDown()
	}()
}

// watch starts an informer for gvr (once) and waits for its cache to fill.
func (w *Watcher) watch(gvr schema.GroupVersionResource, gk schema.GroupKind) {
	w.mu.Lock()
	if w.watching[gvr] {
		w.mu.Unlock()
		return
	}
	inf := w.factory.ForResource(gvr)
	_ = inf.Informer().SetTransform(slim)
	w.watching[gvr] = true
	w.byKind[gk] = inf.Lister()
	ctx := w.ctx
	w.mu.Unlock()
	_, _ = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.enqueue(obj) },
		UpdateFunc: w.onUpdate,
		DeleteFunc: func(obj any) { w.enqueue(obj) },
	})
	w.factory.Start(ctx.Done())
	cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced)
}

// onUpdate ignores updates that cannot have taken a field from tether: if
// tether's own managedFields entry is byte-identical before and after (status
// writes, other controllers' annotations), there is nothing to do.
func (w *Watcher) onUpdate(oldObj, newObj any) {
	o, ok1 := oldObj.(*unstructured.Unstructured)
	n, ok2 := newObj.(*unstructured.Unstructured)
	if ok1 && ok2 && bytes.Equal(tetherEntry(o), tetherEntry(n)) {
		return
	}
	w.enqueue(newObj)
}

func tetherEntry(u *unstructured.Unstructured) []byte {
	for _, e := range u.GetManagedFields() {
		if e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.FieldsV1 != nil {
			return e.FieldsV1.Raw
		}
	}
	return nil
}

func (w *Watcher) enqueue(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	key := KeyOf(u)
	if m, _, _ := w.state.lookup(key); m == nil {
		return
	}
	w.queue.AddRateLimited(key)
}

// resync queues every managed object for a drift check; a periodic full check
// catches anything a watch missed.
func (w *Watcher) resync() {
	w.state.mu.RLock()
	keys := make([]Key, 0, len(w.state.byKey))
	for k := range w.state.byKey {
		keys = append(keys, k)
	}
	w.state.mu.RUnlock()
	for _, k := range keys {
		w.queue.Add(k)
	}
}

// live returns the cached live object for key; found is false once deleted.
func (w *Watcher) live(key Key) (*unstructured.Unstructured, bool) {
	w.mu.Lock()
	lister := w.byKind[key.GroupKind()]
	w.mu.Unlock()
	if lister == nil {
		return nil, false
	}
	var obj any
	var err error
	if key.Namespace == "" {
		obj, err = lister.Get(key.Name)
	} else {
		obj, err = lister.ByNamespace(key.Namespace).Get(key.Name)
	}
	if err != nil {
		return nil, false
	}
	u, ok := obj.(*unstructured.Unstructured)
	return u, ok
}

// slim drops from cached objects what drift, health and pruning never read:
// kubectl's last-applied-configuration (a second copy of the object) and the
// field sets of status-only managers. Entries that may own spec fields stay,
// since they name who changed a field tether owned.
func slim(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	if ann := u.GetAnnotations(); ann != nil {
		if _, has := ann[lastApplied]; has {
			delete(ann, lastApplied)
			u.SetAnnotations(ann)
		}
	}
	entries := u.GetManagedFields()
	kept := entries[:0]
	for _, e := range entries {
		if e.Subresource == "status" {
			continue
		}
		kept = append(kept, e)
	}
	u.SetManagedFields(kept)
	return u, nil
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"
