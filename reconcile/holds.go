package reconcile

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tether-ml/tether/render"
)

// StateSyncBlocked is the /status state of a unit whose new revision a sync
// window holds back; its health is in the health field.
const StateSyncBlocked Health = "SyncBlocked"

// holds is what the loop knows about sync windows between passes: the
// settings of the last rendered revision (drift checks read their windows),
// the units whose new content waits, and the timer that wakes the loop at
// the next window edge.
type holds struct {
	now func() time.Time // the clock; nil: time.Now (tests fix it)

	mu       sync.Mutex
	settings render.Settings
	units    map[string]*hold
	timer    *time.Timer
	wakeAt   time.Time // when the timer fires; zero when none is set
	due      bool      // a window edge passed since the last pass
	manual   bool      // some hold may be lifted by a sync requested by hand
	windowed bool      // some window turns drift reverts off
}

// hold is one unit whose new content waits for a sync window to open. Its
// objects stay at the revision in its record.
type hold struct {
	hash     string    // the content held back; "" when the unit left Git
	revision string    // the first revision that rendered it
	since    time.Time // when it was first held
	windows  []render.SyncWindow
	opens    time.Time // when syncs are allowed again; zero: not found
	lookBy   time.Time // without opens: when the windows are looked at again
	manual   bool      // every blocking window has manualSync: true
	request  string    // what became of a sync requested by hand, for /status
}

func (h *holds) clock() time.Time {
	if h.now != nil {
		return h.now()
	}
	return time.Now()
}

// begin starts a pass's look at the windows of settings. It reports whether
// a window edge passed since the last look, and whether some window turns
// drift reverts off.
func (h *holds) begin(settings render.Settings) (due, windowed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	due = h.due
	h.settings, h.due = settings, false
	h.windowed = false
	for _, w := range settings.SyncWindows {
		h.windowed = h.windowed || !w.RevertDrift
	}
	return due, h.windowed
}

// held returns the hold of unit, if any.
func (h *holds) held(unit string) (hold, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u, ok := h.units[unit]
	if !ok {
		return hold{}, false
	}
	return *u, true
}

// gate reports whether a window edge passed since the last pass, and
// whether a sync requested by hand could lift a hold.
func (h *holds) gate() (due, manual bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.due, h.manual
}

// manualHolds lists the held units whose windows allow a sync by hand, with
// when each was first held.
func (h *holds) manualHolds() map[string]time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]time.Time{}
	for name, u := range h.units {
		if u.manual {
			out[name] = u.since
		}
	}
	return out
}

// replace keeps next as the held units, arms the timer to call wake at the
// next window edge, and returns the units held from now on (for the first
// time, or with new content).
func (h *holds) replace(next map[string]*hold, edge time.Time, wake func()) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var started []string
	h.manual = false
	for name, n := range next {
		if old, ok := h.units[name]; !ok || old.hash != n.hash {
			started = append(started, name)
		}
		h.manual = h.manual || n.manual
	}
	sort.Strings(started)
	h.units = next
	h.arm(edge, wake)
	return started
}

// arm sets the timer to fire at edge; the caller holds mu.
func (h *holds) arm(edge time.Time, wake func()) {
	if h.timer != nil && edge.Equal(h.wakeAt) {
		return
	}
	if h.timer != nil {
		h.timer.Stop()
		h.timer = nil
	}
	h.wakeAt = edge
	if edge.IsZero() {
		return
	}
	h.timer = time.AfterFunc(max(edge.Sub(h.clock()), 0), func() {
		h.mu.Lock()
		h.due, h.timer, h.wakeAt = true, nil, time.Time{}
		h.mu.Unlock()
		wake()
	})
}

// noteRequest records what became of a sync requested for a held unit.
func (h *holds) noteRequest(unit, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if u, ok := h.units[unit]; ok {
		u.request = reason
	}
}

// revertAllowed reports whether drift of unit is reverted now: not while a
// window that blocks its syncs says revertDrift: false.
func (h *holds) revertAllowed(unit string) bool {
	h.mu.Lock()
	settings, windowed := h.settings, h.windowed
	h.mu.Unlock()
	return !windowed || settings.WindowsFor(unit).Verdict(h.clock()).Revert
}

// status describes a hold for /status.
func (x hold) status() *SyncBlockedStatus {
	s := &SyncBlockedStatus{Revision: x.revision, Since: x.since, ManualSync: x.manual, Request: x.request}
	for _, w := range x.windows {
		s.Windows = append(s.Windows, w.String())
	}
	if !x.opens.IsZero() {
		s.Opens = &x.opens
	}
	if x.hash == "" {
		s.Message = "the unit left Git: its objects are pruned when a window opens"
	}
	return s
}

// message says why a unit is held and until when, for the SyncHeld event.
func (x hold) message() string {
	var ws []string
	for _, w := range x.windows {
		ws = append(ws, w.String())
	}
	msg := "held by sync window " + strings.Join(ws, ", ")
	if x.opens.IsZero() {
		msg += fmt.Sprintf("; it does not open before %s", x.lookBy.UTC().Format(time.RFC3339))
	} else {
		msg += "; applied when it opens at " + x.opens.UTC().Format(time.RFC3339)
	}
	if x.manual {
		msg += "; to sync now, annotate the model's inventory record with " + AnnotationSyncRequested + "=<RFC 3339 time>"
	}
	return msg
}

// SyncBlockedStatus is a held unit's hold in /status.
type SyncBlockedStatus struct {
	Windows    []string   `json:"windows"`           // the windows that block its syncs
	Revision   string     `json:"revision"`          // the first revision whose content waits
	Since      time.Time  `json:"since"`             // when it was first held
	Opens      *time.Time `json:"opensAt,omitempty"` // when it is applied; absent: not within the next 5000 window edges
	ManualSync bool       `json:"manualSync"`        // a sync requested by hand goes through
	Request    string     `json:"request,omitempty"` // what became of a sync requested by hand
	Message    string     `json:"message,omitempty"`
}
