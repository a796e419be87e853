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
	Source    Source
	Render    Renderer
	Applier   *Applier
	Inventory *Inventory
	Interval  time.Duration   // poll period; also caps the fetch backoff
	Schedule  source.Schedule // optional: poll at its times (a cron spec) instead of every Interval
	Resync    time.Duration   // full drift check of every object; 0 disables
	Prune     bool
	MaxPrune  PruneLimit
	Log       *slog.Logger
	Events    Sink     // optional
	Metrics   *Metrics // optional
}

// Loop polls the source, renders, applies, prunes, and keeps applied objects
// free of drift.
type Loop struct {
	cfg     Config
	state   *state
	watcher *Watcher
	locks   keyLocks
	ready   atomic.Bool
	wake    chan struct{}
	status  statusBoard

	firstPass     chan struct{} // closed when the first pass reached the report step
	firstPassOnce sync.Once

	mu        sync.Mutex
	lastDrift map[Key]time.Time

	revision string // last revision rendered
	retry    bool   // some unit failed: apply again even if the revision is unchanged
	failures int    // consecutive fetch failures, for backoff
	lastErr  string // last fetch error, logged once
}

// NewLoop builds a loop; Run starts it.
func NewLoop(cfg Config) *Loop {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	l := &Loop{
		cfg:       cfg,
		state:     newState(),
		lastDrift: map[Key]time.Time{},
		wake:      make(chan struct{}, 1),
		firstPass: make(chan struct{}),
	}
	l.watcher = newWatcher(cfg.Applier.Dynamic(), l.state, l.objectHealthChanged)
	return l
}

// Ready reports whether the inventory was read (or the first revision processed).
func (l *Loop) Ready() bool { return l.ready.Load() }

// Wake asks for a fetch now (e.g. after a push webhook). Calls that arrive while
// one is pending coalesce into a single fetch.
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run reconciles until ctx is cancelled. The object being written when ctx is
// cancelled is finished, and so is its unit's inventory record.
func (l *Loop) Run(ctx context.Context) error {
	l.watcher.start(ctx)
	if err := l.restore(ctx); err != nil {
		return err
	}
	l.ready.Store(true)
	for range driftWorkers {
		go l.runDriftWorker(ctx)
	}
	go l.resyncEvery(ctx)
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

// pass is one trip of a revision through the loop's steps.
type pass struct {
	start   time.Time
	snap    source.Snapshot
	res     *render.Result // units without their objects: see objects
	newRev  bool
	desired map[string]*render.Unit // valid, rendered units by name
	objects map[string][]desired    // encoded objects of each valid unit, by name
	*outcome
}

// step is one stage of a pass; it returns false to end the pass early.
type step func(ctx context.Context, p *pass) bool

// cycle runs one pass of fetch → render → apply → prune → record → health and
// returns how long to wait before the next one.
func (l *Loop) cycle(ctx context.Context) time.Duration {
	p := &pass{start: time.Now(), outcome: newOutcome()}
	for _, s := range []step{l.fetch, l.render, l.apply, l.prune, l.record, l.health, l.report} {
		if ctx.Err() != nil || !s(ctx, p) {
			break
		}
	}
	if l.failures > 0 {
		return l.backoff()
	}
	if l.cfg.Schedule != nil {
		return time.Until(l.cfg.Schedule.Next(time.Now()))
	}
	return l.cfg.Interval
}

// fetch syncs the source. An unchanged head with nothing to retry ends the pass.
func (l *Loop) fetch(ctx context.Context, p *pass) bool {
	snap, changed, err := l.cfg.Source.Sync(ctx)
	if err != nil {
		l.fetchFailed(err)
		return false
	}
	l.fetchRecovered(snap.Revision)
	p.snap, p.newRev = snap, snap.Revision != l.revision
	l.status.setRevision(snap.Revision)
	return changed || l.retry || p.newRev
}

// render renders the revision. A repository-wide failure ends the pass: nothing
// is applied and, above all, nothing is pruned.
func (l *Loop) render(ctx context.Context, p *pass) bool {
	res, err := l.cfg.Render(p.snap.Dir)
	if err != nil {
		if p.newRev {
			l.cfg.Log.Error("render failed", "revision", p.snap.Revision, "err", err)
			l.emit(Event{Type: EventSyncFailed, Time: time.Now(), Revision: p.snap.Revision, Message: err.Error()})
		}
		l.status.setError(err.Error())
		l.revision, l.retry = p.snap.Revision, false
		return false
	}
	p.compact(res)
	l.status.setError("")
	return true
}

// compact keeps a rendered revision for the rest of the pass with each unit's
// objects encoded, so the decoded render result is garbage from here on.
func (p *pass) compact(res *render.Result) {
	p.res = &render.Result{Settings: res.Settings, Units: make([]render.Unit, len(res.Units))}
	p.desired, p.objects = map[string]*render.Unit{}, map[string][]desired{}
	for i, u := range res.Units {
		if u.Err == nil {
			objs := make([]desired, 0, len(u.Objects))
			for _, obj := range u.Objects {
				d, err := compact(obj)
				if err != nil {
					u.Err = err
					break
				}
				objs = append(objs, d)
			}
			if u.Err == nil {
				p.objects[u.Name] = objs
			}
		}
		u.Objects = nil
		p.res.Units[i] = u
		if u.Err == nil {
			p.desired[u.Name] = &p.res.Units[i]
		}
	}
}

func (l *Loop) report(ctx context.Context, p *pass) bool {
	l.revision, l.retry = p.snap.Revision, p.failures() > 0
	l.firstPassOnce.Do(func() { close(l.firstPass) })
	took := time.Since(p.start)
	l.cfg.Metrics.observeReconcile(p.snap.Revision, took)
	l.cfg.Log.Info("revision reconciled", "revision", p.snap.Revision, "models", len(p.res.Units),
		"failed", p.failures(), "duration", took.Round(time.Millisecond))
	return true
}

// fetchFailed logs a fetch error once per distinct failure. A head refused by
// commit verification is its own event: the last good revision stays applied.
func (l *Loop) fetchFailed(err error) {
	if msg := err.Error(); failureKey(err) != l.lastErr {
		ev := Event{Type: EventFetchFailed, Time: time.Now(), Message: msg}
		var ve *source.VerificationError
		if errors.As(err, &ve) {
			ev.Type, ev.Revision = EventVerificationFailed, ve.Revision
		}
		l.cfg.Log.Error("fetch failed", "err", err)
		l.emit(ev)
		l.lastErr = failureKey(err)
		l.status.setError(msg)
	}
	l.failures++
}

// failureKey says which failures are "the same": for Git errors their kind
// (unreachable, auth, ...) and repository, whichever step hit it, so one outage
// is reported once even when it starts between the ls-remote and the fetch.
func failureKey(err error) string {
	var se *source.Error
	if errors.As(err, &se) && se.Kind != nil {
		return se.Kind.Error() + " " + se.URL
	}
	return err.Error()
}

// backoff is jittered exponential from 1 s, capped at the poll interval.
func (l *Loop) backoff() time.Duration {
	d := min(time.Second<<min(l.failures-1, 10), l.cfg.Interval)
	return d/2 + rand.N(d/2+1)
}

func (l *Loop) fetchRecovered(revision string) {
	if l.lastErr != "" {
		l.cfg.Log.Info("fetch recovered", "revision", revision)
		l.status.setError("")
	}
	l.lastErr, l.failures = "", 0
}

func (l *Loop) emit(ev Event) {
	l.cfg.Metrics.observeEvent(ev)
	if l.cfg.Events != nil {
		l.cfg.Events(ev)
	}
}
