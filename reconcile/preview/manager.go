package preview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// Config wires a Manager.
type Config struct {
	Refs               *source.RefSet
	Applier            *reconcile.Applier
	InventoryNamespace string         // where the previews' records live, as the tracked branch's
	Instance           string         // the tracked branch's; a preview's is <Instance>-pr-<id>
	Flags              render.Options // the daemon's rendering flags, merged with the tracked settings
	Max                int            // most previews at once (--preview-max)
	TTL                time.Duration  // a preview whose head has not moved for this long goes; 0: never
	Interval           time.Duration  // poll period; also caps the backoff after a failed listing
	Schedule           source.Schedule
	Resync             time.Duration // each preview's full drift check
	WorkDir            string        // each preview's checkout lives in WorkDir/<id>
	Log                *slog.Logger
	Events             reconcile.Sink
	Leader             reconcile.Leader // with leader election: the previews' writes are fenced like the tracked branch's
	RecordEvents       bool             // Kubernetes Events from the previews' loops
	Now                func() time.Time // default time.Now
}

// Manager starts, updates and tears down previews; see the package doc.
type Manager struct {
	cfg  Config
	wake chan struct{}

	mu       sync.Mutex
	settings *render.Settings // the tracked branch's, nil until its first render
	gen      int              // bumped with each new settings
	running  map[string]*preview
	left     []Left
	deleting map[string]Target

	// Owned by Run's goroutine.
	present  map[string]string    // previews found in the cluster (id → ref, if known) not yet continued or gone
	seen     map[string]firstSeen // by ref
	failures int
	lastErr  string
	capped   string // the last PreviewCapped message
}

type firstSeen struct {
	revision string
	at       time.Time
}

// New builds a manager; Run starts it.
func New(cfg Config) *Manager {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Manager{cfg: cfg, wake: make(chan struct{}, 1), running: map[string]*preview{},
		deleting: map[string]Target{}, seen: map[string]firstSeen{}}
}

// SetSettings hands over the tracked branch's settings after each successful
// render of it; previews wait for the first. Changed settings re-render
// every preview.
func (m *Manager) SetSettings(s render.Settings) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.settings != nil && settingsEqual(*m.settings, s) {
		return
	}
	m.settings = &s
	m.gen++
	for _, p := range m.running {
		p.src.setGeneration(m.gen)
		p.loop.Wake()
	}
}

// current returns the tracked settings and their generation.
func (m *Manager) current() (render.Settings, int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.settings == nil {
		return render.Settings{}, 0, false
	}
	return *m.settings, m.gen, true
}

// Wake asks for a listing now (after a push webhook).
func (m *Manager) Wake() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run polls until ctx ends, then stops every preview's loop (their records
// saved) and returns. Stopping tears nothing down: a restarted daemon
// continues the previews.
func (m *Manager) Run(ctx context.Context) error {
	defer m.stopAll()
	for {
		timer := time.NewTimer(m.poll(ctx))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		case <-m.wake:
			timer.Stop()
		}
	}
}

// poll lists the refs and brings the previews in line with them. It returns
// how long to wait for the next poll.
func (m *Manager) poll(ctx context.Context) time.Duration {
	if _, _, ok := m.current(); !ok {
		return time.Second // the tracked branch has not rendered yet
	}
	if m.present == nil {
		present, err := m.discover(ctx)
		if err != nil {
			return m.failed(err)
		}
		m.present = present
	}
	heads, err := m.cfg.Refs.List(ctx)
	if err != nil {
		return m.failed(err)
	}
	m.recovered()
	sel := Select(m.candidates(heads), m.cfg.Now(), m.cfg.TTL, m.cfg.Max)
	m.removeUnwanted(ctx, sel, heads)
	for _, t := range sel.Wanted {
		if ctx.Err() != nil {
			break
		}
		m.ensure(ctx, t)
	}
	m.reportLeft(sel.Left)
	if m.cfg.Schedule != nil {
		return time.Until(m.cfg.Schedule.Next(time.Now()))
	}
	return m.cfg.Interval
}

// candidates dates each head: the earlier of its commit time and when it was
// first seen at this revision.
func (m *Manager) candidates(heads []source.Head) []Candidate {
	now := m.cfg.Now()
	seen := map[string]firstSeen{}
	out := make([]Candidate, len(heads))
	for i, h := range heads {
		fs, ok := m.seen[h.Ref]
		if !ok || fs.revision != h.Revision {
			fs = firstSeen{revision: h.Revision, at: now}
		}
		seen[h.Ref] = fs
		since := fs.at
		if h.Time.Before(since) {
			since = h.Time
		}
		out[i] = Candidate{Head: h, Since: since}
	}
	m.seen = seen
	return out
}

// removeUnwanted tears down every running or leftover preview that the
// selection does not want, saying why.
func (m *Manager) removeUnwanted(ctx context.Context, sel Selection, heads []source.Head) {
	why := map[string]string{}
	for _, t := range sel.Expired {
		why[t.ID] = fmt.Sprintf("no new commit on %s for %s", t.Ref, m.cfg.TTL)
	}
	for _, l := range sel.Left {
		why[l.ID] = l.Reason
	}
	for _, t := range sel.Wanted {
		why[t.ID] = "" // wanted, whatever else shares its id
	}
	for _, id := range m.ids() {
		if reason, known := why[id]; !known || reason != "" {
			if !known {
				reason = "its ref is gone"
			}
			if err := m.teardown(ctx, id, reason); err != nil {
				m.cfg.Log.Error("preview teardown failed: retried at the next poll", "preview", id, "err", err)
			}
		}
	}
}

// ids lists the previews that exist: running, or found in the cluster.
func (m *Manager) ids() []string {
	m.mu.Lock()
	set := map[string]bool{}
	for id := range m.running {
		set[id] = true
	}
	m.mu.Unlock()
	for id := range m.present {
		set[id] = true
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	return out
}

// failed reports a failed listing once per distinct error and backs off.
// Nothing is torn down: a failed listing says nothing about which refs exist.
func (m *Manager) failed(err error) time.Duration {
	m.failures++
	if msg := err.Error(); msg != m.lastErr {
		m.lastErr = msg
		m.emit(reconcile.Event{Type: reconcile.EventFetchFailed, Time: time.Now(), Message: "preview refs: " + msg,
			Preview: &reconcile.PreviewRef{}})
	}
	d := min(time.Second<<min(m.failures-1, 10), max(m.cfg.Interval, time.Second))
	return d/2 + rand.N(d/2+1)
}

func (m *Manager) recovered() {
	if m.lastErr != "" {
		m.cfg.Log.Info("preview refs listed again")
	}
	m.failures, m.lastErr = 0, ""
}

// reportLeft remembers the refs left without a preview, for /status, and
// reports them when the list changes.
func (m *Manager) reportLeft(left []Left) {
	m.mu.Lock()
	m.left = left
	m.mu.Unlock()
	var refs []string
	for _, l := range left {
		refs = append(refs, l.Ref+" ("+l.Reason+")")
	}
	msg := strings.Join(refs, "; ")
	if msg != m.capped && msg != "" {
		m.emit(reconcile.Event{Type: reconcile.EventPreviewCapped, Time: time.Now(), Count: len(left), Message: msg,
			Preview: &reconcile.PreviewRef{}})
	}
	m.capped = msg
}

func (m *Manager) emit(ev reconcile.Event) {
	if m.cfg.Events != nil {
		m.cfg.Events(ev)
	}
}

// stopAll stops every preview's loop and waits for it.
func (m *Manager) stopAll() {
	m.mu.Lock()
	running := m.running
	m.running = map[string]*preview{}
	m.mu.Unlock()
	for _, p := range running {
		p.stop()
	}
}

// settingsEqual compares the settings a preview depends on.
func settingsEqual(a, b render.Settings) bool { return reflect.DeepEqual(a, b) }

// errNotConfined: a rendered object would land outside the preview.
var errNotConfined = errors.New("outside the preview's namespaces")
