package render

import (
	"path"
	"strconv"
	"strings"
	"time"
)

// Sync windows follow Argo CD's semantics: an active deny window blocks a
// model's syncs; when allow windows match a model, it syncs only while one of
// them is active; a deny window wins over an allow window. Drift is still
// reverted while syncs are blocked, unless a blocking window says
// revertDrift: false. A window lasts Duration of elapsed time from each start.

// Active reports whether w is open at t: its schedule fired at or before t,
// less than Duration ago.
func (w SyncWindow) Active(t time.Time) bool {
	sched, err := w.schedule()
	if err != nil || w.Duration <= 0 {
		return false
	}
	// next returns the first start strictly after t-Duration; the window is
	// open when that start is not after t.
	start := sched.next(t.Add(-w.Duration))
	return !start.IsZero() && !start.After(t)
}

func (w SyncWindow) schedule() (windowSchedule, error) {
	return windowScheduleOf(w.Schedule, w.TimeZone)
}

// Matches reports whether w applies to model; a window without globs applies
// to every model.
func (w SyncWindow) Matches(model string) bool {
	if len(w.Models) == 0 {
		return true
	}
	for _, glob := range w.Models {
		if ok, _ := path.Match(glob, model); ok {
			return true
		}
	}
	return false
}

// SyncAllowed reports whether a new revision of model may be applied at t.
func (s Settings) SyncAllowed(model string, t time.Time) bool {
	return s.WindowsFor(model).Verdict(t).Sync
}

// RevertAllowed reports whether drift of model is reverted at t: always while
// syncs are allowed, and otherwise unless a blocking window turns it off.
func (s Settings) RevertAllowed(model string, t time.Time) bool {
	return s.WindowsFor(model).Verdict(t).Revert
}

// Windows are the sync windows that apply to one model (or bundle).
type Windows struct {
	list []SyncWindow
	key  string
}

// WindowsFor returns the windows of tether.yaml that match model.
func (s Settings) WindowsFor(model string) Windows {
	var w Windows
	var key strings.Builder
	for i, sw := range s.SyncWindows {
		if sw.Matches(model) {
			w.list = append(w.list, sw)
			key.WriteString(strconv.Itoa(i) + ",")
		}
	}
	w.key = key.String()
	return w
}

// Key identifies the set of windows: models with equal keys (under the same
// Settings) have the same verdicts at every instant.
func (w Windows) Key() string { return w.key }

// Verdict is what a model's sync windows say at one instant.
type Verdict struct {
	Sync   bool // a new revision may be applied, and what left Git pruned
	Revert bool // drift is reverted
	// ManualSync: syncs are blocked, but every blocking window has
	// manualSync: true, so a sync requested by hand goes through.
	ManualSync bool
	Blocking   []SyncWindow // the windows that block syncs; nil when Sync
}

// Verdict evaluates the windows at t: active deny windows block, and so do
// all allow windows when none of them is active.
func (w Windows) Verdict(t time.Time) Verdict {
	var blocking, allow []SyncWindow
	open := false
	for _, sw := range w.list {
		switch sw.Kind {
		case WindowDeny:
			if sw.Active(t) {
				blocking = append(blocking, sw)
			}
		case WindowAllow:
			allow = append(allow, sw)
			open = open || sw.Active(t)
		}
	}
	if len(allow) > 0 && !open {
		blocking = append(blocking, allow...)
	}
	v := Verdict{Sync: len(blocking) == 0, Revert: true, ManualSync: len(blocking) > 0, Blocking: blocking}
	for _, sw := range blocking {
		v.Revert = v.Revert && sw.RevertDrift
		v.ManualSync = v.ManualSync && sw.ManualSync
	}
	return v
}

// maxEdges bounds the search for the next opening: a window that starts
// every minute and lasts longer is looked at 5000 minutes ahead, then again
// at the time the search reached.
const maxEdges = 5000

// NextSync returns the first instant after t at which syncs are allowed
// (found), or, when none is within maxEdges window edges, the instant to
// look again (not found); zero and not found when the verdict never changes.
func (w Windows) NextSync(t time.Time) (at time.Time, found bool) {
	return w.nextWhere(t, func(v Verdict) bool { return v.Sync })
}

// NextRevert is NextSync for drift reverts.
func (w Windows) NextRevert(t time.Time) (at time.Time, found bool) {
	return w.nextWhere(t, func(v Verdict) bool { return v.Revert })
}

func (w Windows) nextWhere(t time.Time, ok func(Verdict) bool) (time.Time, bool) {
	at := t
	for range maxEdges {
		if at = w.nextEdge(at); at.IsZero() {
			return at, false
		}
		if ok(w.Verdict(at)) {
			return at, true
		}
	}
	return at, false
}

// nextEdge is the first instant after t at which a window may open or
// close: the next start of any window, or the earliest end of an occurrence
// that started at or before t. Overlapping occurrences make some of these
// instants change nothing; the verdict at each is what counts.
func (w Windows) nextEdge(t time.Time) time.Time {
	var edge time.Time
	earliest := func(e time.Time) {
		if !e.IsZero() && (edge.IsZero() || e.Before(edge)) {
			edge = e
		}
	}
	for _, sw := range w.list {
		sched, err := sw.schedule()
		if err != nil || sw.Duration <= 0 {
			continue
		}
		earliest(sched.next(t))
		if start := sched.next(t.Add(-sw.Duration)); !start.IsZero() {
			earliest(start.Add(sw.Duration))
		}
	}
	return edge
}

// String describes a window for messages: "deny 0 22 * * * for 8h".
func (w SyncWindow) String() string {
	s := w.Kind + " " + strconv.Quote(w.Schedule) + " for " + shortDuration(w.Duration)
	if w.TimeZone != "" {
		s += " (" + w.TimeZone + ")"
	}
	return s
}

// shortDuration writes 8h rather than 8h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
