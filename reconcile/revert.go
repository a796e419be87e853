package reconcile

import (
	"context"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/render"
)

// runDriftWorker handles queued objects until the queue shuts down.
func (l *Loop) runDriftWorker(ctx context.Context) {
	q := l.watcher.queue
	for {
		key, shutdown := q.Get()
		if shutdown {
			return
		}
		if l.handleDrift(ctx, key) {
			q.AddRateLimited(key) // revert failed: try again with backoff
		} else if !l.driftedRecently(key) {
			q.Forget(key)
		}
		q.Done(key)
	}
}

// driftedRecently keeps an object's backoff growing while it keeps drifting.
func (l *Loop) driftedRecently(key Key) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.lastDrift[key]
	return ok && time.Since(t) < driftWindow
}

// driftWindow is how long an object counts as "still drifting" for backoff.
const driftWindow = 10 * time.Second

// handleDrift checks one object against what tether applied and reverts or
// reports a difference. It returns true when the object should be retried.
func (l *Loop) handleDrift(ctx context.Context, key Key) (retry bool) {
	unlock := l.locks.lock(key)
	defer unlock()
	a, mode, suspend := l.state.lookup(key)
	if a == nil || a.owned == nil || suspend {
		return false
	}
	d, err := l.detect(ctx, key, a)
	if err != nil {
		l.cfg.Log.Error("drift check failed", "object", key.String(), "err", err)
		return true
	}
	if d == nil {
		return false
	}
	l.mu.Lock()
	l.lastDrift[key] = time.Now()
	l.mu.Unlock()
	ev := Event{Type: EventDriftDetected, Time: time.Now(), Revision: a.revision, Unit: a.unit, Object: &key, Drift: d, Action: "reported"}
	if mode == render.DriftReport {
		l.emit(ev)
		return false
	}
	ev.Action = "reverted"
	l.emit(ev)
	if err := l.write(ctx, a); err != nil {
		l.cfg.Log.Error("revert failed", "object", key.String(), "err", err)
		return true
	}
	ev.Type, ev.Time = EventDriftReverted, time.Now()
	l.emit(ev)
	return false
}

// detect compares the live object with what was applied. The informer cache may
// briefly lag tether's own writes; an object older than tether's last write is
// skipped (its newer event follows), and a missing one is confirmed with a GET.
func (l *Loop) detect(ctx context.Context, key Key, a *applied) (*Drift, error) {
	live, found := l.watcher.live(key)
	if !found {
		got, err := l.cfg.Applier.get(ctx, a.object)
		if apierrors.IsNotFound(err) {
			return &Drift{Object: key, Deleted: true}, nil
		}
		if err != nil {
			return nil, err
		}
		live = got
	}
	if olderThan(live, a.resourceVersion) {
		return nil, nil
	}
	return DetectDrift(a.object, a.owned, live)
}

// olderThan reports whether live predates tether's write at rv. Resource
// versions are etcd revisions on every API server tether supports; when either
// is not a number nothing is skipped.
func olderThan(live *unstructured.Unstructured, rv string) bool {
	a, err1 := strconv.ParseUint(live.GetResourceVersion(), 10, 64)
	b, err2 := strconv.ParseUint(rv, 10, 64)
	return err1 == nil && err2 == nil && a < b
}

func (l *Loop) emit(ev Event) {
	if l.cfg.Events != nil {
		l.cfg.Events(ev)
	}
}
