package reconcile

import (
	"context"
	"time"
)

// Notifier delivers a batch of events somewhere people read them: Slack, a
// webhook. It makes one attempt; retry reports whether the same batch may
// succeed if tried again (a 429, a 5xx, a network error). Backoff, metrics and
// logging belong to one retry wrapper around every Notifier, as in
// alertmanager's notify package, not to each implementation.
type Notifier interface {
	Notify(ctx context.Context, events []Event) (retry bool, err error)
}

// EventDigest is a periodic summary of drift; notifiers get it in Event.Digest.
// The loop never emits it: the notification pipeline builds it on a schedule.
const EventDigest EventType = "Digest"

// DriftDigest summarises the drift seen between Since and Until.
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
