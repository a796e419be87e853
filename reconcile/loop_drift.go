package reconcile

import (
	"context"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/render"
)

// driftWindow is how long an object counts as "still drifting" for backoff.
const driftWindow = 10 * time.Second

// driftWorkers revert different objects at once, so a storm of changes is not
// reverted one round trip after another; the queue never hands one object to
// two workers. Five storms of 100 changes at 1000 models: with 8 workers p50
// 1.49 s and p99 1.98 s over all changes, with 32 p50 1.11 s and p99 1.83 s.
const driftWorkers = 32

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

// resyncEvery queues a full drift check after the first pass and then every
// cfg.Resync.
func (l *Loop) resyncEvery(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-l.firstPass:
	}
	l.watcher.resync()
	if l.cfg.Resync <= 0 {
		return
	}
	t := time.NewTicker(l.cfg.Resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.watcher.resync()
		}
	}
}

// driftedRecently keeps an object's backoff growing while it keeps drifting.
// An object whose window has passed is forgotten.
func (l *Loop) driftedRecently(key Key) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.lastDrift[key]
	if ok && time.Since(t) >= driftWindow {
		delete(l.lastDrift, key)
		return false
	}
	return ok
}

// handleDrift checks one object against what tether applied and reverts or
// reports a difference. It returns true when the object should be retried.
func (l *Loop) handleDrift(ctx context.Context, key Key) (retry bool) {
	unlock := l.locks.lock(key)
	defer unlock()
	m, mode, suspend := l.state.lookup(key)
	if m == nil || m.body == nil || len(m.owned) == 0 || suspend {
		return false
	}
	seen := time.Now()
	d, err := l.detect(ctx, key, m)
	if err != nil {
		l.cfg.Log.Error("drift check failed", "object", key.String(), "err", err)
		return true
	}
	if d == nil {
		return false
	}
	l.mu.Lock()
	l.lastDrift[key] = seen
	l.mu.Unlock()
	ev := Event{Type: EventDriftDetected, Time: seen, Revision: m.revision, Unit: m.unit, Object: &key, Drift: d, Action: "reported"}
	if mode == render.DriftReport {
		l.emit(ev)
		l.state.setDrift(m.unit, ev)
		return false
	}
	ev.Action = "reverted"
	l.emit(ev)
	if err := l.write(ctx, "", m); err != nil {
		l.cfg.Log.Error("revert failed", "object", key.String(), "err", err)
		return true
	}
	l.cfg.Metrics.observeRevert(time.Since(seen))
	ev.Type, ev.Time = EventDriftReverted, time.Now()
	l.emit(ev)
	l.state.setDrift(m.unit, ev)
	return false
}

// detect compares the live object with what was applied. The cache's digest
// of tether's fields settles most checks without decoding anything: equal to
// the one recorded, nothing was taken from tether. The cache may briefly lag
// tether's own writes; an object older than tether's last write is skipped
// (its newer event follows). A missing object, or a changed one whose whole
// state the cache did not keep, is read with a GET.
func (l *Loop) detect(ctx context.Context, key Key, m *member) (*Drift, error) {
	var live *unstructured.Unstructured
	if lo, found := l.watcher.live(key); found {
		if olderThan(lo.ResourceVersion, m.resourceVersion) {
			return nil, nil
		}
		if lo.tether == m.ownedSum {
			lo.full.Store(nil) // tether's write came after the event that kept it
			return nil, nil
		}
		live = lo.full.Load()
	}
	if live == nil {
		got, err := l.cfg.Applier.get(ctx, m.gvk(), key)
		if isNotFound(err) {
			return &Drift{Object: key, Deleted: true}, nil
		}
		if err != nil {
			return nil, err
		}
		live = got
	}
	applied, owned, err := m.applied()
	if err != nil {
		return nil, err
	}
	return DetectDrift(applied, owned, live)
}

// olderThan reports whether resource version live predates tether's write at
// rv. Resource versions are etcd revisions on every API server tether supports;
// when either is not a number nothing is skipped.
func olderThan(live, rv string) bool {
	a, err1 := strconv.ParseUint(live, 10, 64)
	b, err2 := strconv.ParseUint(rv, 10, 64)
	return err1 == nil && err2 == nil && a < b
}
