package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// Source yields the tracked revision; source.Repo implements it.
type Source interface {
	Sync(ctx context.Context) (snap source.Snapshot, changed bool, err error)
}

// Renderer renders a checked-out revision. hooks.Keep says whether the loop
// still holds a unit's encoded objects from an earlier pass: a renderer may
// then return that unit Reused, without Objects (render.Incremental does).
// hooks.Rendered takes a freshly rendered unit's objects, encoded; a renderer
// may call it or return the objects in the result.
type Renderer func(snap source.Snapshot, hooks render.Hooks) (*render.Result, error)

// Config wires a Loop.
type Config struct {
	Source    Source
	Render    Renderer
	Applier   *Applier
	Inventory *Inventory
	Interval  time.Duration   // poll period; also caps the fetch backoff
	Schedule  source.Schedule // optional: poll at its times (a cron spec) instead of every Interval
	Resync    time.Duration   // full drift check of every object; 0 disables
	Fights    FightPolicy     // how tether backs off an actor undoing its reverts; zero: DefaultFightPolicy
	Leader    Leader          // with several replicas: writes are fenced by the lease and records
	// RecordEvents records outcomes as Kubernetes Events on the objects and
	// the records concerned.
	RecordEvents bool
	Prune        bool
	MaxPrune     PruneLimit
	Log          *slog.Logger
	Events       Sink     // optional
	Metrics      *Metrics // optional
}

// Loop polls the source, renders, applies, prunes, and keeps applied objects
// free of drift.
type Loop struct {
	cfg     Config
	state   *state
	watcher *Watcher
	locks   keyLocks
	fights  *fights
	ready   atomic.Bool
	wake    chan struct{}
	status  statusBoard
	holds   holds // sync windows: what waits, and the timer at the next edge (loop_window.go)

	firstPass     chan struct{} // closed when the first pass reached the report step
	firstPassOnce sync.Once

	// Owned by the goroutine running cycle.
	revision string          // last revision rendered
	retry    bool            // some unit failed: apply again even if the revision is unchanged
	failures int             // consecutive fetch failures, for backoff
	lastErr  string          // last fetch error, reported once
	unsaved  map[string]bool // units whose record could not be written: saved at the next pass
	encoded  encodedUnits    // the last render's objects, for units rendered again unchanged (loop_render.go)
	moves    shardMoves      // models moving between shards (loop_shard.go)

	stop context.CancelCauseFunc // ends Run early, with ErrFenced when another replica leads
	kube *kubeEvents             // with RecordEvents, from Run on
	lost lostRecords             // records deleted under the running loop
}

// NewLoop builds a loop; Run starts it.
func NewLoop(cfg Config) *Loop {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	st := newState()
	return &Loop{
		cfg:       cfg,
		state:     st,
		watcher:   newWatcher(cfg.Applier.Dynamic(), st, cfg.Log),
		fights:    newFights(cfg.Fights),
		wake:      make(chan struct{}, 1),
		firstPass: make(chan struct{}),
		unsaved:   map[string]bool{},
	}
}

// Ready reports whether the inventory was read and every watched kind can be
// listed and watched; when not, the error says why.
func (l *Loop) Ready() error {
	if !l.ready.Load() {
		return errors.New("inventory not yet read")
	}
	if p := l.watcher.problems(); len(p) > 0 {
		return fmt.Errorf("cannot watch: %s", strings.Join(p, "; "))
	}
	return nil
}

// Wake asks for a fetch now (e.g. after a push webhook). Calls that arrive while
// one is pending coalesce into a single fetch.
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run reconciles until ctx is cancelled. The object being written when ctx is
// cancelled is finished, and so is its unit's inventory record; Run returns
// once every drift worker stopped, so the events of the last writes have been
// emitted.
func (l *Loop) Run(ctx context.Context) error {
	ctx, l.stop = context.WithCancelCause(ctx)
	defer l.stop(nil)
	if l.cfg.RecordEvents {
		l.kube = newKubeEvents(ctx, l.cfg.Applier, l.reference)
		defer l.kube.broadcaster.Shutdown()
	}
	l.watcher.start(ctx)
	l.watchRecords(ctx)
	if err := l.loadRecords(ctx); err != nil {
		return err
	}
	var workers sync.WaitGroup
	for range driftWorkers {
		workers.Go(func() { l.runDriftWorker(ctx) })
	}
	go l.resyncEvery(ctx)
	defer workers.Wait() // a revert under way is finished and its event emitted
	for {
		wait := l.cycle(ctx)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			if cause := context.Cause(ctx); errors.Is(cause, ErrFenced) {
				return cause
			}
			return nil
		case <-timer.C:
		case <-l.wake:
			timer.Stop()
		}
	}
}

// step is one stage of a pass. It returns stop to end the pass early with
// nothing wrong (the head did not change), or an error saying why the pass
// ended: a stalled error when the revision itself is bad, any other error
// when trying again later may succeed.
type step func(ctx context.Context, p *pass) (stop bool, err error)

// stalled marks an error that no retry of the same revision can fix (an
// invalid tether.yaml): the loop waits for a new revision.
type stalled struct{ error }

func (s stalled) Unwrap() error { return s.error }

// cycle runs one pass of fetch → render → hold back → apply → prune → save records →
// health → report, and returns how long to wait before the next one.
func (l *Loop) cycle(ctx context.Context) time.Duration {
	p := newPass()
	var err error
	for _, s := range []step{l.fetch, l.render, l.holdBack, l.apply, l.prune, l.saveRecords, l.dropSiblings, l.health, l.report} {
		var stop bool
		if stop, err = s(ctx, p); stop || err != nil || ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil && !p.saved && len(p.dirtyUnits()) > 0 {
		_, _ = l.saveRecords(ctx, p) // stopping: what was written is recorded, so no object is left unaccounted for
	}
	l.finish(p, err)
	switch {
	case l.failures > 0:
		return l.backoff()
	case l.cfg.Schedule != nil:
		return time.Until(l.cfg.Schedule.Next(time.Now()))
	}
	return l.cfg.Interval
}

// finish remembers what the next pass needs to know: which revision was
// handled and whether some unit must be applied again although the head stays.
func (l *Loop) finish(p *pass, err error) {
	var bad stalled
	switch {
	case errors.As(err, &bad):
		l.revision, l.retry = p.snap.Revision, false
	case p.reported:
		l.revision, l.retry = p.snap.Revision, p.failures() > 0
	}
}

// report ends a pass that got through every step.
func (l *Loop) report(_ context.Context, p *pass) (bool, error) {
	p.reported = true
	l.firstPassOnce.Do(func() { close(l.firstPass) })
	took := time.Since(p.start)
	l.cfg.Metrics.observeReconcile(p.snap.Revision, took)
	l.cfg.Log.Info("revision reconciled", "revision", p.snap.Revision, "models", len(p.res.Units),
		"failed", p.failures(), "duration", took.Round(time.Millisecond))
	return false, nil
}

// backoff is jittered exponential from 1 s, capped at the poll interval.
func (l *Loop) backoff() time.Duration {
	d := min(time.Second<<min(l.failures-1, 10), l.cfg.Interval)
	return d/2 + rand.N(d/2+1)
}

func (l *Loop) emit(ev Event) {
	l.cfg.Metrics.observeEvent(ev)
	if l.cfg.Events != nil {
		l.cfg.Events(ev)
	}
	l.recordKube(ev)
}

// recordKube records ev as Kubernetes Events, on its object and its unit's
// record.
func (l *Loop) recordKube(ev Event) {
	if l.kube == nil {
		return
	}
	var rec *corev1.ObjectReference
	if ev.Unit != "" { // the record may not exist yet: a model invalid from the start
		st, _ := l.state.unit(ev.Unit)
		inv := l.cfg.Inventory
		rec = &corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: inv.namespace,
			Name: parentName(inv.instance, l.state.kindOf(ev.Unit), ev.Unit), UID: st.recordUID}
	}
	l.kube.record(ev, rec)
}

// reference tells the API version and live UID of a managed object.
func (l *Loop) reference(key Key) (string, types.UID) {
	apiVersion := ""
	if m, _, _ := l.state.lookup(key); m != nil {
		apiVersion = m.gvk().GroupVersion().String()
	}
	var uid types.UID
	if lo, ok := l.watcher.live(key); ok {
		uid = lo.UID
	}
	return apiVersion, uid
}
