package reconcile

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
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
// and queues each object that may have drifted or changed health; the loop's
// drift workers take them with next. It never calls into the loop. Its cache
// keeps a liveObject per object, not the object itself.
type Watcher struct {
	factory dynamicinformer.DynamicSharedInformerFactory
	queue   workqueue.TypedRateLimitingInterface[Key]
	state   *state

	mu        sync.Mutex
	watching  map[schema.GroupVersionResource]bool
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer
	byKind    map[schema.GroupKind]cache.Indexer
	hasSynced map[schema.GroupKind]cache.InformerSynced
	failing   map[schema.GroupVersionResource]string // the last list or watch error of a kind not synced
	ctx       context.Context
	log       *slog.Logger
}

// liveObject is what the watch cache keeps of an object: its identity, a
// digest of the fields tether owns, its health and, for Jobs, whether the run
// finished. Only while tether's fields differ from what it recorded (the object
// may have drifted) is the whole object kept too, for the drift check's diff.
// A thousand models' objects cost about a MiB instead of tens.
type liveObject struct {
	metav1.ObjectMeta // name, namespace, uid, resourceVersion, creationTimestamp
	key               Key
	tether            [sha256.Size]byte // fieldsSum of tether's managedFields entry
	health            Health
	finished          bool // a Job whose run completed or failed
	full              atomic.Pointer[unstructured.Unstructured]
}

// newWatcher builds a watcher; nothing is watched until watch is called.
func newWatcher(dyn dynamic.Interface, st *state, log *slog.Logger) *Watcher {
	selector := render.LabelManagedBy + "=" + render.ManagedByTether
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, metav1.NamespaceAll, func(o *metav1.ListOptions) {
		o.LabelSelector = selector
	})
	// Watch events are queued as they come (Add): how often one object may be
	// reverted is the fight policy's business. The rate limiter only spaces
	// out retries after a failed check or revert: 5 ms doubling to 30 s,
	// forgotten after the next success.
	limiter := workqueue.NewTypedItemExponentialFailureRateLimiter[Key](5*time.Millisecond, 30*time.Second)
	return &Watcher{
		factory:   factory,
		queue:     workqueue.NewTypedRateLimitingQueue(limiter),
		state:     st,
		watching:  map[schema.GroupVersionResource]bool{},
		informers: map[schema.GroupVersionResource]cache.SharedIndexInformer{},
		byKind:    map[schema.GroupKind]cache.Indexer{},
		hasSynced: map[schema.GroupKind]cache.InformerSynced{},
		failing:   map[schema.GroupVersionResource]string{},
		log:       log,
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

// watch starts an informer for gvr once. It does not wait for the cache to
// fill: a kind tether may apply but not list or watch (RBAC, a broken
// conversion webhook) must not hang the loop or a drift worker holding a
// lock. Such a kind shows in problems (and so in /readyz and /status) and is
// logged once per distinct error.
func (w *Watcher) watch(gvr schema.GroupVersionResource, gk schema.GroupKind) {
	w.mu.Lock()
	if w.watching[gvr] {
		w.mu.Unlock()
		return
	}
	inf := w.factory.ForResource(gvr).Informer()
	_ = inf.SetTransform(w.summarize)
	_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) { w.failed(gvr, err) })
	w.watching[gvr] = true
	w.informers[gvr] = inf
	w.byKind[gk] = inf.GetIndexer()
	w.hasSynced[gk] = inf.HasSynced
	ctx := w.ctx
	w.mu.Unlock()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    w.enqueue,
		UpdateFunc: w.onUpdate,
		DeleteFunc: w.enqueue,
	})
	w.factory.Start(ctx.Done())
}

// failed records a list or watch error of gvr, logged when it is new.
func (w *Watcher) failed(gvr schema.GroupVersionResource, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if msg := err.Error(); w.failing[gvr] != msg {
		w.failing[gvr] = msg
		w.log.Error("watch failed: drift of this kind is not seen until it works", "resource", gvr.String(), "err", msg)
	}
}

// synced reports whether the cache of gk holds every object of that kind.
func (w *Watcher) synced(gk schema.GroupKind) bool {
	w.mu.Lock()
	hasSynced := w.hasSynced[gk]
	w.mu.Unlock()
	return hasSynced != nil && hasSynced()
}

// problems lists the kinds whose cache never filled, with their last error.
func (w *Watcher) problems() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for gvr, msg := range w.failing {
		if inf := w.informers[gvr]; inf == nil || !inf.HasSynced() {
			out = append(out, fmt.Sprintf("%s: %s", gvr.GroupResource(), msg))
		}
	}
	sort.Strings(out)
	return out
}

// summarize is the informers' transform: it turns each object the watch
// delivers into the liveObject the cache keeps.
func (w *Watcher) summarize(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil // already summarized
	}
	lo := &liveObject{
		ObjectMeta: metav1.ObjectMeta{
			Name: u.GetName(), Namespace: u.GetNamespace(), UID: u.GetUID(),
			ResourceVersion: u.GetResourceVersion(), CreationTimestamp: u.GetCreationTimestamp(),
		},
		key:    KeyOf(u),
		tether: fieldsSum(appliedFields(u.GetManagedFields())),
		health: ObjectHealth(u),
	}
	if lo.key.Group == "batch" && lo.key.Kind == "Job" {
		lo.finished = jobFinished(u)
	}
	if m, _, _ := w.state.lookup(lo.key); m != nil && m.ownedSum != lo.tether {
		lo.full.Store(slim(u))
	}
	return lo, nil
}

// onUpdate ignores updates that can neither have taken a field from tether
// nor changed the object's health: status writes that change nothing, other
// controllers' annotations.
func (w *Watcher) onUpdate(oldObj, newObj any) {
	o, ok1 := oldObj.(*liveObject)
	n, ok2 := newObj.(*liveObject)
	if !ok1 || !ok2 {
		return
	}
	if o.tether != n.tether || o.health != n.health {
		w.enqueue(n)
	}
}

// appliedFields returns the FieldsV1 of tether's Apply entry among entries,
// nil if there is none.
func appliedFields(entries []metav1.ManagedFieldsEntry) []byte {
	for _, e := range entries {
		if e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" && e.FieldsV1 != nil {
			return e.FieldsV1.Raw
		}
	}
	return nil
}

// enqueue queues a managed object for a drift check and a health rollup.
func (w *Watcher) enqueue(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	lo, ok := obj.(*liveObject)
	if !ok {
		return
	}
	if m, _, _ := w.state.lookup(lo.key); m == nil {
		return
	}
	w.queue.Add(lo.key)
}

// resync queues every managed object for a drift check; a periodic full check
// catches anything a watch missed.
func (w *Watcher) resync() {
	for _, k := range w.state.keys() {
		w.queue.Add(k)
	}
}

// next blocks until an object is due for a check; false once ctx ended.
// Every key next returns must be handed back with done.
func (w *Watcher) next() (Key, bool) {
	key, shutdown := w.queue.Get()
	return key, !shutdown
}

// done ends the check of key; a change queued meanwhile is handed out next.
func (w *Watcher) done(key Key) { w.queue.Done(key) }

// retry queues key again with its per-object backoff.
func (w *Watcher) retry(key Key) { w.queue.AddRateLimited(key) }

// later queues key after wait, unless it is queued sooner.
func (w *Watcher) later(key Key, wait time.Duration) { w.queue.AddAfter(key, wait) }

// forget resets key's per-object backoff.
func (w *Watcher) forget(key Key) { w.queue.Forget(key) }

// live returns what the cache holds for key; found is false once deleted.
func (w *Watcher) live(key Key) (*liveObject, bool) {
	w.mu.Lock()
	store := w.byKind[key.GroupKind()]
	w.mu.Unlock()
	if store == nil {
		return nil, false
	}
	name := key.Name
	if key.Namespace != "" {
		name = key.Namespace + "/" + key.Name
	}
	obj, found, err := store.GetByKey(name)
	if err != nil || !found {
		return nil, false
	}
	lo, ok := obj.(*liveObject)
	return lo, ok
}

// slim drops from a drifted object what the drift check never reads: kubectl's
// last-applied-configuration (a second copy of the object) and the field sets
// of status-only managers. Entries that may own spec fields stay, since they
// name who changed a field tether owned.
func slim(u *unstructured.Unstructured) *unstructured.Unstructured {
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
	return u
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"
