package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tether-ml/tether/reconcile"
)

// The categories --notify-on chooses from.
const (
	CategoryDrift   = "drift"   // Drift, whatever tether did about it, and Fight
	CategoryFailure = "failure" // SyncFailed, ModelInvalid, FetchFailed, VerificationFailed
	CategoryPrune   = "prune"   // PruneBlocked
	CategoryPreview = "preview" // PreviewCreated, PreviewDeleted, PreviewCapped
	CategoryHeld    = "held"    // SyncHeld: a sync window holds a revision back
)

// Categories are the valid --notify-on values, all on by default.
var Categories = []string{CategoryDrift, CategoryFailure, CategoryPrune, CategoryPreview, CategoryHeld}

// Options configure a Pipeline.
type Options struct {
	Cluster        string   // names the cluster in messages
	On             []string // categories to notify; nil: all
	Success        bool     // also report each applied revision
	DigestSchedule string   // 5-field cron for the drift digest; "" for none
	Queue          QueueOptions
	Retry          RetryOptions
	Log            *slog.Logger
	Registry       prometheus.Registerer // nil: metrics are not registered
}

// Target is one notifier the pipeline feeds, named in logs and metrics.
type Target struct {
	Name     string
	Notifier Notifier
}

// Pipeline connects the loop's events to notifiers: filter, de-duplicate,
// record for the digest, and offer to one bounded queue per target.
type Pipeline struct {
	on      map[string]bool
	success bool
	queues  []*Queue
	digest  *digest
	dedup   dedup
}

// NewPipeline builds a pipeline that wraps each target in a Retrier and a
// Queue. It fails on an unknown category or a bad digest schedule.
func NewPipeline(o Options, targets ...Target) (*Pipeline, error) {
	on, err := ParseCategories(o.On)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{on: on, success: o.Success, dedup: dedup{seen: map[dedupKey]string{}}}
	if o.DigestSchedule != "" {
		if p.digest, err = newDigest(o.DigestSchedule, time.Now()); err != nil {
			return nil, err
		}
	}
	m := NewMetrics(o.Registry)
	for _, t := range targets {
		r := NewRetrier(t.Name, t.Notifier, o.Log, m, o.Retry)
		p.queues = append(p.queues, NewQueue(t.Name, r, m, o.Queue))
	}
	return p, nil
}

// ParseCategories checks --notify-on values; none means all.
func ParseCategories(values []string) (map[string]bool, error) {
	on := map[string]bool{}
	if len(values) == 0 {
		values = Categories
	}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if !contains(Categories, v) {
			return nil, fmt.Errorf("notify-on %q: expected a comma-separated list of %s", v, strings.Join(Categories, ", "))
		}
		on[v] = true
	}
	return on, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Sink is the pipeline's reconcile.Sink. It never blocks: what a full queue
// cannot take is dropped and counted.
func (p *Pipeline) Sink(ev reconcile.Event) {
	if p.digest != nil {
		p.digest.record(ev)
	}
	if !p.wanted(ev) || !p.dedup.first(ev) {
		return
	}
	for _, q := range p.queues {
		q.Offer(ev)
	}
}

// wanted applies --notify-on and --notify-success. Of the events inside a
// preview environment only its creation and deletion are posted, and a
// failure to list the preview refs: a pull request's drift and invalid
// models are for its author, in the logs and /status, not for the channel.
func (p *Pipeline) wanted(ev reconcile.Event) bool {
	if isPreviewEvent(ev) {
		return p.on[CategoryPreview]
	}
	if ev.Preview != nil && (ev.Preview.ID != "" || ev.Type != reconcile.EventFetchFailed) {
		return false // inside a preview; only the manager's own failure has no id
	}
	switch ev.Type {
	case reconcile.EventDrift, reconcile.EventFight:
		return p.on[CategoryDrift]
	case reconcile.EventSyncFailed, reconcile.EventModelInvalid, reconcile.EventFetchFailed, reconcile.EventVerificationFailed:
		return p.on[CategoryFailure]
	case reconcile.EventPruneBlocked:
		return p.on[CategoryPrune]
	case reconcile.EventSyncHeld:
		return p.on[CategoryHeld]
	case reconcile.EventApplied:
		return p.success
	}
	return false
}

// Run runs every queue's worker and the digest schedule until ctx is done,
// and returns once what was pending has been delivered or given up.
func (p *Pipeline) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, q := range p.queues {
		wg.Go(func() { q.Run(ctx) })
	}
	if p.digest != nil {
		wg.Go(func() { p.digest.run(ctx, p.offerDigest) })
	}
	wg.Wait()
}

func (p *Pipeline) offerDigest(d *DriftDigest) {
	for _, q := range p.queues {
		q.OfferDigest(d)
	}
}

// dedup lets a failure through once per model, revision and error: the loop
// retries a failed sync every interval, people need to hear it once. A held
// revision is told once per model and revision.
type dedup struct {
	mu   sync.Mutex
	seen map[dedupKey]string // last revision and message reported
}

type dedupKey struct {
	typ  reconcile.EventType
	unit string
}

func (d *dedup) first(ev reconcile.Event) bool {
	switch ev.Type {
	case reconcile.EventSyncFailed, reconcile.EventModelInvalid, reconcile.EventFetchFailed,
		reconcile.EventVerificationFailed, reconcile.EventPruneBlocked, reconcile.EventSyncHeld:
	default:
		return true
	}
	k, v := dedupKey{ev.Type, ev.Unit}, ev.Revision+"\x00"+ev.Message
	if ev.Type == reconcile.EventSyncHeld {
		v = ev.Revision
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen[k] == v {
		return false
	}
	d.seen[k] = v
	return true
}
