package reconcile

import "time"

// EventType names what happened; notifiers switch on it.
type EventType string

// The events the loop and the drift watcher emit.
const (
	EventApplied       EventType = "Applied"
	EventModelInvalid  EventType = "ModelInvalid"
	EventSyncFailed    EventType = "SyncFailed"
	EventFetchFailed   EventType = "FetchFailed"
	EventDriftDetected EventType = "DriftDetected"
	EventDriftReverted EventType = "DriftReverted"
)

// Event is one outcome of reconciliation, carrying everything a report needs.
type Event struct {
	Type     EventType
	Time     time.Time
	Revision string
	Unit     string // model name; empty for repository-wide events
	Object   *Key
	Action   string // what tether did: applied, reverted, reported
	Message  string
	Drift    *Drift
}

// Sink receives events. It must not block: the loop and the watcher call it
// inline.
type Sink func(Event)
