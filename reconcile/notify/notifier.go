package notify

import (
	"context"
	"time"

	"github.com/tether-ml/tether/reconcile"
)

// Notifier delivers one batch somewhere people read it: Slack, a webhook. It
// makes one attempt; retry reports whether the same batch may succeed if
// tried again (a 429, a 5xx, a network error). Backoff, metrics and logging
// belong to the one Retrier around every Notifier, as in alertmanager's
// notify package, not to each implementation. The interface lives here, with
// the queue and retrier that use it.
type Notifier interface {
	Notify(ctx context.Context, b Batch) (retry bool, err error)
}

// Batch is what one message carries: the events that arrived together, or a
// digest, which always travels alone.
type Batch struct {
	Events []reconcile.Event
	Digest *DriftDigest
}

// Events wraps events as a Batch.
func Events(events ...reconcile.Event) Batch { return Batch{Events: events} }

// DriftDigest summarises the drift seen between Since and Until. The pipeline
// builds it on the --digest-schedule; the loop never emits one.
type DriftDigest struct {
	Since   time.Time     `json:"since"`
	Until   time.Time     `json:"until"`
	Total   int           `json:"total"`   // drift events in the period
	Models  []DigestEntry `json:"models"`  // drift per model, most first
	Objects []DigestEntry `json:"objects"` // the most changed objects, most first (capped)
}

// DigestEntry is one line of a digest: a model or an object and how often it
// drifted.
type DigestEntry struct {
	Name   string `json:"name"`
	Drifts int    `json:"drifts"`
}

// digestType is the type of a digest in the JSON webhook's events.
const digestType = "Digest"
