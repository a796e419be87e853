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
	EventPruned        EventType = "Pruned"
	EventPruneBlocked  EventType = "PruneBlocked"

	// EventVerificationFailed: the head commit is unsigned or not signed by a
	// trusted key (source.ErrUnverified); the last good revision stays applied.
	EventVerificationFailed EventType = "VerificationFailed"
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
	Count    int          // objects applied or pruned; deletions a PruneBlocked event held back
	Objects  []Key        // objects applied or pruned, when the event is about several
	Digest   *DriftDigest // EventDigest only
}

// Sink receives events. It must not block: the loop and the watcher call it
// inline.
type Sink func(Event)
