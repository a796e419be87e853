package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// Source yields the tracked revision; source.Repo implements it.
type Source interface {
	Sync(ctx context.Context) (snap source.Snapshot, changed bool, err error)
}

// Renderer renders a checked-out revision.
type Renderer func(dir string) (*render.Result, error)

// Config wires a Loop.
type Config struct {
	Source   Source
	Render   Renderer
	Applier  *Applier
	Interval time.Duration // poll period; also caps the fetch backoff
	Log      *slog.Logger
	Events   Sink // optional
}

// Loop polls the source, renders, applies, and keeps applied objects free of drift.
type Loop struct {
	cfg     Config
	state   *state
	watcher *Watcher
	locks   keyLocks
	ready   atomic.Bool

	mu        sync.Mutex
	lastDrift map[Key]time.Time
	wake      chan struct{}

	revision string // last revision rendered and applied
	retry    bool   // some unit failed: apply again even if the revision is unchanged
	failures int    // consecutive fetch failures, for backoff
	lastErr  string // last fetch error, logged once
}

// NewLoop builds a loop; Run starts it.
func NewLoop(cfg Config) *Loop {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	st := newState()
	return &Loop{
		cfg:       cfg,
		state:     st,
		watcher:   newWatcher(cfg.Applier.Dynamic(), st, cfg.Log),
		lastDrift: map[Key]time.Time{},
		wake:      make(chan struct{}, 1),
	}
}

// Wake asks for a fetch now (e.g. after a push webhook). Calls that arrive while
// one is pending coalesce into a single fetch.
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Ready reports whether the first revision was processed.
func (l *Loop) Ready() bool { return l.ready.Load() }

// Run reconciles until ctx is cancelled. An in-flight apply of one object is
// finished before it returns.
func (l *Loop) Run(ctx context.Context) error {
	l.watcher.start(ctx)
	go l.runDriftWorker(ctx)
	for {
		wait := l.cycle(ctx)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		case <-l.wake:
			timer.Stop()
		}
	}
}

// cycle runs one pass of fetch → render → apply and returns how long to wait
// before the next one.
func (l *Loop) cycle(ctx context.Context) time.Duration {
	start := time.Now()
	snap, changed, err := l.cfg.Source.Sync(ctx)
	if err != nil {
		return l.fetchFailed(err)
	}
	l.fetchRecovered(snap.Revision)
	if !changed && !l.retry && snap.Revision == l.revision {
		return l.cfg.Interval
	}
	res, err := l.cfg.Render(snap.Dir)
	if err != nil {
		l.cfg.Log.Error("render failed", "revision", snap.Revision, "err", err)
		l.emit(Event{Type: EventSyncFailed, Time: time.Now(), Revision: snap.Revision, Message: err.Error()})
		l.revision, l.retry = snap.Revision, false
		return l.cfg.Interval
	}
	newRevision := snap.Revision != l.revision
	l.retry = false
	for i := range res.Units {
		l.reconcileUnit(ctx, snap.Revision, &res.Units[i], newRevision)
	}
	l.revision = snap.Revision
	l.ready.Store(true)
	l.cfg.Log.Info("revision reconciled", "revision", snap.Revision, "models", len(res.Units), "duration", time.Since(start).Round(time.Millisecond))
	return l.cfg.Interval
}

// fetchFailed logs a fetch error once per distinct failure and returns a
// jittered exponential backoff, capped at the poll interval.
func (l *Loop) fetchFailed(err error) time.Duration {
	if msg := err.Error(); msg != l.lastErr {
		l.cfg.Log.Error("fetch failed", "err", err)
		l.emit(Event{Type: EventFetchFailed, Time: time.Now(), Message: msg})
		l.lastErr = msg
	}
	l.failures++
	backoff := time.Second << min(l.failures-1, 10)
	backoff = min(backoff, l.cfg.Interval)
	return backoff/2 + rand.N(backoff/2+1)
}

func (l *Loop) fetchRecovered(revision string) {
	if l.lastErr != "" {
		l.cfg.Log.Info("fetch recovered", "revision", revision)
	}
	l.lastErr, l.failures = "", 0
}

// reconcileUnit applies one unit if its content changed. An invalid unit is
// reported (once per revision) and keeps its live objects as last applied.
func (l *Loop) reconcileUnit(ctx context.Context, revision string, u *render.Unit, newRevision bool) {
	if u.Err != nil {
		if newRevision {
			l.cfg.Log.Error("model invalid", "revision", revision, "model", u.Name, "err", u.Err)
			l.emit(Event{Type: EventModelInvalid, Time: time.Now(), Revision: revision, Unit: u.Name, Message: u.Err.Error()})
		}
		return
	}
	l.state.configure(u.Name, u.Drift, u.Suspend)
	if u.Suspend {
		return
	}
	if prev := l.state.unit(u.Name); prev != nil && prev.hash == u.Hash {
		return
	}
	if err := l.applyUnit(ctx, revision, u); err != nil {
		l.retry = true
		l.cfg.Log.Error("sync failed", "revision", revision, "model", u.Name, "err", err)
		l.emit(Event{Type: EventSyncFailed, Time: time.Now(), Revision: revision, Unit: u.Name, Message: err.Error()})
		return
	}
	l.state.markApplied(u.Name, u.Hash)
}

// applyUnit applies every object of a unit whose content changed, stamping the
// revision that produced it. It applies what it can and returns all errors.
func (l *Loop) applyUnit(ctx context.Context, revision string, u *render.Unit) error {
	var errs []error
	count := 0
	for _, obj := range u.Objects {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		hash := render.ObjectsHash(obj)
		key := KeyOf(obj)
		if prev, _, _ := l.state.lookup(key); prev != nil && prev.hash == hash {
			continue
		}
		desired := obj.DeepCopy()
		annotations := desired.GetAnnotations()
		annotations[render.AnnotationRev] = revision
		desired.SetAnnotations(annotations)
		unlock := l.locks.lock(key)
		err := l.write(ctx, &applied{unit: u.Name, object: desired, hash: hash, revision: revision})
		unlock()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		count++
		l.cfg.Log.Info("applied", "revision", revision, "model", u.Name, "object", key.String())
	}
	if count > 0 {
		l.emit(Event{Type: EventApplied, Time: time.Now(), Revision: revision, Unit: u.Name, Action: "applied"})
	}
	return errors.Join(errs...)
}

// write applies a desired object, records the fields tether now owns, and makes
// sure the object's kind is watched. The caller holds the object's lock.
func (l *Loop) write(ctx context.Context, a *applied) error {
	live, gvr, err := l.cfg.Applier.Apply(ctx, a.object)
	if err != nil {
		return err
	}
	owned, err := ownedFields(live, FieldManager)
	if err != nil {
		return err
	}
	next := *a
	next.owned, next.gvr, next.resourceVersion = owned, gvr, live.GetResourceVersion()
	l.state.record(&next)
	l.watcher.watch(gvr, KeyOf(a.object).GroupKind())
	return nil
}
