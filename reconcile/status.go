package reconcile

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// statusBoard holds the loop-wide facts /status reports.
type statusBoard struct {
	mu        sync.Mutex
	revision  string
	lastError string
	foreign   []string // records of other instances, left alone
	invalid   []string // records of this instance that could not be read, left alone
}

func (b *statusBoard) setRecords(foreign []string, invalid []error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.foreign = foreign
	b.invalid = nil
	for _, err := range invalid {
		b.invalid = append(b.invalid, err.Error())
	}
}

func (b *statusBoard) setRevision(r string) {
	b.mu.Lock()
	b.revision = r
	b.mu.Unlock()
}

func (b *statusBoard) setError(e string) {
	b.mu.Lock()
	b.lastError = e
	b.mu.Unlock()
}

// Status is the JSON document served on /status.
type Status struct {
	Instance  string       `json:"instance"`
	Revision  string       `json:"revision"`
	Ready     bool         `json:"ready"`
	NotReady  string       `json:"notReady,omitempty"` // why not ready
	LastError string       `json:"lastError,omitempty"`
	Units     []UnitStatus `json:"models"`
	// ForeignRecords are inventory records of other daemons (or none) in the
	// inventory namespace; InvalidRecords are this daemon's records it could
	// not read. Both are left alone: nothing they list is ever pruned.
	ForeignRecords []string `json:"foreignRecords,omitempty"`
	InvalidRecords []string `json:"invalidRecords,omitempty"`
}

// UnitStatus is one unit in /status.
type UnitStatus struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	State Health `json:"state"` // the health, or SyncBlocked while a sync window holds a new revision back
	// Health is the rollup of the objects' health, also while SyncBlocked.
	Health          Health             `json:"health,omitempty"`
	SyncBlocked     *SyncBlockedStatus `json:"syncBlocked,omitempty"`
	LastApplied     string             `json:"lastAppliedRevision,omitempty"`
	LastError       string             `json:"lastError,omitempty"`
	LastDrift       *DriftStatus       `json:"lastDrift,omitempty"`
	LastFight       *DriftStatus       `json:"lastFight,omitempty"`
	Objects         []string           `json:"objects"`
	DriftMode       string             `json:"drift,omitempty"`
	Suspended       bool               `json:"suspended,omitempty"`
	ObjectsRetained int                `json:"retainedObjects,omitempty"`
	// Lineage: the commit, image, modelURI, dataset and training run (with
	// its outcome) of the content last applied, and when it was applied.
	Lineage *LineageStatus `json:"lineage,omitempty"`
	// ObjectLineage lists Objects with the revision of each one's content,
	// that revision's commit and when it was applied.
	ObjectLineage []ObjectStatus `json:"objectLineage,omitempty"`
}

// DriftStatus is the last drift of a unit.
type DriftStatus struct {
	Object  string    `json:"object"`
	Fields  []string  `json:"fields,omitempty"`
	Deleted bool      `json:"deleted,omitempty"`
	Manager string    `json:"manager,omitempty"`
	Action  string    `json:"action,omitempty"`
	Message string    `json:"message,omitempty"`
	Time    time.Time `json:"time"`
}

// Status returns a snapshot of what the loop knows.
func (l *Loop) Status() Status {
	l.status.mu.Lock()
	notReady := l.Ready()
	s := Status{Instance: l.cfg.Inventory.instance, Revision: l.status.revision, LastError: l.status.lastError, Ready: notReady == nil,
		ForeignRecords: l.status.foreign, InvalidRecords: l.status.invalid}
	l.status.mu.Unlock()
	if notReady != nil {
		s.NotReady = notReady.Error()
	}
	s.Units = []UnitStatus{}
	for _, name := range l.state.unitNames() {
		s.Units = append(s.Units, l.unitStatus(name))
	}
	return s
}

func (l *Loop) unitStatus(name string) UnitStatus {
	st, _ := l.state.unit(name)
	us := UnitStatus{Name: name, Kind: st.kind, State: st.health, Health: st.health, LastApplied: st.revision, LastError: st.lastError,
		DriftMode: st.drift, Suspended: st.suspend, Objects: []string{}}
	if h, ok := l.holds.held(name); ok {
		us.State, us.SyncBlocked = StateSyncBlocked, h.status()
	}
	members := l.state.memberList(name)
	var applied []*member // retired members wait for pruning (or keepRuns); after a restart, for the first render
	for _, m := range members {
		if m.body == nil {
			us.ObjectsRetained++
			continue
		}
		us.Objects = append(us.Objects, m.key.String())
		applied = append(applied, m)
	}
	us.LastDrift, us.LastFight = driftStatus(st.lastDrift), driftStatus(st.lastFight)
	us.Lineage, us.ObjectLineage = l.lineageStatus(st, members), objectStatuses(st.lineage, applied)
	return us
}

// driftStatus is a drift or fight event as /status shows it.
func driftStatus(ev *Event) *DriftStatus {
	if ev == nil || ev.Drift == nil {
		return nil
	}
	ds := &DriftStatus{Object: ev.Drift.Object.String(), Deleted: ev.Drift.Deleted, Manager: ev.Drift.Manager,
		Action: string(ev.Action), Message: ev.Message, Time: ev.Time}
	for _, c := range ev.Drift.Changes {
		ds.Fields = append(ds.Fields, c.Path)
	}
	return ds
}

// StatusHandler serves Status as JSON.
func (l *Loop) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, l.Status()) })
}

// ModelStatusHandler serves one unit's status, lineage included, for GET
// /status/models/{name}; an unknown name is 404.
func (l *Loop) ModelStatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if _, ok := l.state.unit(name); !ok {
			http.Error(w, fmt.Sprintf("no model or bundle named %q", name), http.StatusNotFound)
			return
		}
		writeJSON(w, l.unitStatus(name))
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
