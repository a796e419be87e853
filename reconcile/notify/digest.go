package notify

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tether-ml/tether/reconcile"
)

// maxDigestObjects is how many of the most changed objects a digest lists.
const maxDigestObjects = 10

// digest counts drift between two scheduled summaries.
type digest struct {
	schedule cron.Schedule

	mu      sync.Mutex
	since   time.Time
	total   int
	models  map[string]int
	objects map[string]int
}

// newDigest parses a 5-field cron schedule (robfig/cron's standard parser,
// which also takes @daily, @every and CRON_TZ=). A schedule that never fires
// or fires more often than once a second is refused: run would spin on it
// (issue 11).
func newDigest(schedule string, now time.Time) (*digest, error) {
	if every, ok := strings.CutPrefix(strings.TrimSpace(schedule), "@every"); ok {
		// robfig/cron rounds a shorter @every up to a second; refuse it instead.
		if d, err := time.ParseDuration(strings.TrimSpace(every)); err == nil && d < time.Second {
			return nil, fmt.Errorf("digest-schedule %q: %s is under 1s", schedule, d)
		}
	}
	s, err := cron.ParseStandard(schedule)
	if err != nil {
		return nil, fmt.Errorf("digest-schedule %q: %w", schedule, err)
	}
	if s.Next(now).IsZero() { // robfig/cron looks five years ahead
		return nil, fmt.Errorf("digest-schedule %q: never fires (no such date within five years)", schedule)
	}
	return &digest{schedule: s, since: now, models: map[string]int{}, objects: map[string]int{}}, nil
}

// record counts a drift once, whatever tether did about it.
func (d *digest) record(ev reconcile.Event) {
	if ev.Type != reconcile.EventDrift || ev.Object == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.total++
	model := ev.Unit
	if model == "" {
		model = "(none)"
	}
	d.models[model]++
	d.objects[ev.Object.String()]++
}

// take returns the summary since the last one and starts a new period.
func (d *digest) take(now time.Time) *DriftDigest {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := &DriftDigest{Since: d.since, Until: now, Total: d.total,
		Models: ranked(d.models, 0), Objects: ranked(d.objects, maxDigestObjects)}
	d.since, d.total = now, 0
	d.models, d.objects = map[string]int{}, map[string]int{}
	return out
}

// ranked sorts counts, most first then by name; limit > 0 keeps the top ones.
func ranked(counts map[string]int, limit int) []DigestEntry {
	out := make([]DigestEntry, 0, len(counts))
	for name, n := range counts {
		out = append(out, DigestEntry{Name: name, Drifts: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Drifts != out[j].Drifts {
			return out[i].Drifts > out[j].Drifts
		}
		return out[i].Name < out[j].Name
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// run hands a digest to emit at every scheduled time until ctx is done.
func (d *digest) run(ctx context.Context, emit func(*DriftDigest)) {
	for {
		now := time.Now()
		next := d.schedule.Next(now)
		if sleep(ctx, next.Sub(now)) != nil {
			return
		}
		emit(d.take(time.Now()))
	}
}
