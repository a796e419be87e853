package notify

import (
	"context"
	"time"

	"github.com/tether-ml/tether/reconcile"
)

// QueueOptions tune a Queue; zero values take the defaults.
type QueueOptions struct {
	Size        int           // events held while the notifier is busy (default 1000)
	Window      time.Duration // longest a batch collects events (default 5s)
	MinInterval time.Duration // least time between two messages (default 1s)
	Grace       time.Duration // time deliveries get after shutdown begins (default 3s)
}

// Queue is a bounded buffer between the loop and one notifier. Offer never
// blocks; a worker batches events and hands each batch to the notifier, at
// most one per MinInterval.
//
// A batch closes when Window has passed since its first event, or when no
// event arrived for a fifth of Window: a burst of drift becomes one message,
// and a lone drift is reported about a second after it happened rather than
// at the end of the window.
type Queue struct {
	name     string
	notifier Notifier
	metrics  *Metrics
	opts     QueueOptions
	entries  chan entry
	held     *DriftDigest // a digest waiting for its own batch
	last     time.Time    // when the last message was handed over
}

// entry is one queued event, or a digest.
type entry struct {
	ev     reconcile.Event
	digest *DriftDigest
}

// maxBatch bounds one batch; the message shows the first ones and "+N more".
const maxBatch = 500

// NewQueue returns a queue in front of n; Run starts its worker.
func NewQueue(name string, n Notifier, m *Metrics, o QueueOptions) *Queue {
	if m == nil {
		m = NewMetrics(nil)
	}
	o.Size = orDefault(o.Size, 1000)
	o.Window = orDefault(o.Window, 5*time.Second)
	o.MinInterval = orDefault(o.MinInterval, time.Second)
	o.Grace = orDefault(o.Grace, 3*time.Second)
	return &Queue{name: name, notifier: n, metrics: m, opts: o, entries: make(chan entry, o.Size)}
}

// Offer enqueues ev without blocking. A full queue drops it, counted in
// tether_notify_events_dropped_total, and Offer returns false.
func (q *Queue) Offer(ev reconcile.Event) bool { return q.offer(entry{ev: ev}) }

// OfferDigest enqueues a digest like an event; it is delivered on its own.
func (q *Queue) OfferDigest(d *DriftDigest) bool { return q.offer(entry{digest: d}) }

func (q *Queue) offer(e entry) bool {
	select {
	case q.entries <- e:
		q.metrics.queue.WithLabelValues(q.name).Set(float64(len(q.entries)))
		return true
	default:
		q.metrics.dropped.WithLabelValues(q.name).Inc()
		return false
	}
}

// Run delivers batches until ctx is done, then delivers what is still
// queued. Deliveries, the one in flight included, get Grace beyond ctx.
func (q *Queue) Run(ctx context.Context) {
	send, cancel := graceContext(ctx, q.opts.Grace)
	defer cancel()
	for {
		batch, open := q.collect(ctx)
		if !open {
			for _, b := range q.drain(batch) {
				q.deliver(send, b)
			}
			return
		}
		q.deliver(send, batch)
	}
}

// graceContext returns a context that ends grace after ctx does.
func graceContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	send, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return send, func() { stop(); cancel() }
}

// collect waits for a first entry, then gathers more events until the batch
// closes. A digest always travels alone. It returns false once ctx is done.
func (q *Queue) collect(ctx context.Context) (Batch, bool) {
	if q.held != nil {
		d := q.held
		q.held = nil
		return Batch{Digest: d}, true
	}
	var batch Batch
	select {
	case <-ctx.Done():
		return batch, false
	case e := <-q.entries:
		if e.digest != nil {
			return Batch{Digest: e.digest}, true
		}
		batch.Events = append(batch.Events, e.ev)
	}
	deadline := time.NewTimer(q.opts.Window)
	defer deadline.Stop()
	idle := time.NewTimer(q.opts.Window / 5)
	defer idle.Stop()
	for len(batch.Events) < maxBatch {
		select {
		case <-ctx.Done():
			return batch, false
		case <-deadline.C:
			return batch, true
		case <-idle.C:
			return batch, true
		case e := <-q.entries:
			if e.digest != nil {
				q.held = e.digest
				return batch, true
			}
			batch.Events = append(batch.Events, e.ev)
			idle.Reset(q.opts.Window / 5)
		}
	}
	return batch, true
}

// deliver hands one batch to the notifier, keeping MinInterval between
// messages.
func (q *Queue) deliver(ctx context.Context, b Batch) {
	q.metrics.queue.WithLabelValues(q.name).Set(float64(len(q.entries)))
	if wait := q.opts.MinInterval - time.Since(q.last); wait > 0 {
		if sleep(ctx, wait) != nil {
			return
		}
	}
	_, _ = q.notifier.Notify(ctx, b) // the Retrier counted and logged the outcome
	q.last = time.Now()
}

// drain returns the last deliveries at shutdown: batch with every event still
// queued, then each digest on its own.
func (q *Queue) drain(batch Batch) []Batch {
	var digests []*DriftDigest
	if q.held != nil {
		digests = append(digests, q.held)
	}
	for len(batch.Events) < maxBatch {
		select {
		case e := <-q.entries:
			if e.digest != nil {
				digests = append(digests, e.digest)
			} else {
				batch.Events = append(batch.Events, e.ev)
			}
			continue
		default:
		}
		break
	}
	var out []Batch
	if len(batch.Events) > 0 {
		out = append(out, batch)
	}
	for _, d := range digests {
		out = append(out, Batch{Digest: d})
	}
	return out
}
