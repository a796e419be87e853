package reconcile

import "time"

// EventType names what happened; notifiers switch on it.
type EventType string

// The events the loop and the drift worker emit. Each happening is one event.
const (
	EventApplied      EventType = "Applied"      // a unit's changed objects were applied
	EventModelInvalid EventType = "ModelInvalid" // a unit failed to render
	EventSyncFailed   EventType = "SyncFailed"   // a unit (or, without Unit, the revision) could not be applied
	EventFetchFailed  EventType = "FetchFailed"  // Git could not be reached or read
	EventDrift        EventType = "Drift"        // an object drifted; Action says what tether did
	EventFight        EventType = "Fight"        // another actor keeps undoing tether's reverts: tether backs off
	EventPruned       EventType = "Pruned"       // objects that left Git were deleted
	EventPruneBlocked EventType = "PruneBlocked" // the mass-deletion guard held deletions back
	EventPruneFailed  EventType = "PruneFailed"  // a deletion failed; it is retried at the next poll
	EventPruneSkipped EventType = "PruneSkipped" // objects left Git but are left in place: adopted, or not tether's
	// EventSyncHeld: a sync window holds a unit's new content back (once per
	// unit and content); Revision is the first revision that rendered it.
	EventSyncHeld EventType = "SyncHeld"

	// EventVerificationFailed: the head commit is unsigned or not signed by a
	// trusted key (source.ErrUnverified); the last good revision stays applied.
	EventVerificationFailed EventType = "VerificationFailed"

	// Preview environments (reconcile/preview). Every event of a preview,
	// these and those of its loop, carries Event.Preview.
	EventPreviewCreated EventType = "PreviewCreated" // a ref got its preview environment
	EventPreviewDeleted EventType = "PreviewDeleted" // a preview's objects and namespaces were deleted; Message says why
	EventPreviewCapped  EventType = "PreviewCapped"  // refs left without a preview by --preview-max; Message lists them
)

// Action is what tether did about an event's subject, as ssa's ChangeSet says
// created or configured.
type Action string

// Actions. A drift event carries exactly one of reverted, reported and
// revert-failed.
const (
	ActionApplied      Action = "applied"
	ActionPruned       Action = "pruned"
	ActionReverted     Action = "reverted"      // tether re-applied what Git says
	ActionReported     Action = "reported"      // drift mode report: nothing was changed
	ActionRevertFailed Action = "revert-failed" // the re-apply failed; it is retried with backoff
)

// Event is one outcome of reconciliation, carrying everything a report needs.
type Event struct {
	Type     EventType
	Time     time.Time
	Revision string
	Unit     string // model name; empty for repository-wide events
	Object   *Key
	Action   Action
	Message  string
	Drift    *Drift
	Count    int   // objects applied or pruned; deletions a PruneBlocked event held back
	Objects  []Key // objects applied or pruned, when the event is about several
	// Preview is the preview environment the event is about; nil for the
	// tracked branch.
	Preview *PreviewRef
}

// PreviewRef names a preview environment in an event.
type PreviewRef struct {
	ID         string   // e.g. "7"
	Ref        string   // e.g. refs/pull/7/head
	Namespaces []string // its namespaces, e.g. ml-pr-7
}

// Sink receives events. It must not block: the loop and the drift worker call
// it inline.
type Sink func(Event)
