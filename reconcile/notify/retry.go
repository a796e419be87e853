package notify

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RetryOptions tune a Retrier; zero values take the defaults.
type RetryOptions struct {
	Attempts   int           // attempts per batch (default 5)
	MaxElapsed time.Duration // give a batch up once this much time passed (default 2m)
	MinBackoff time.Duration // first wait after a retryable failure (default 1s)
	MaxBackoff time.Duration // longest wait between attempts without Retry-After (default 30s)
	// Sleep waits between attempts; nil waits on a timer. Tests record waits
	// instead of taking them.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Retrier is the one retry stage in front of every notifier: it owns
// backoff, HTTP 429/503 Retry-After, the sent/failed/retries metrics and the
// failure log, which records a failure only when it differs from the last.
type Retrier struct {
	name     string
	notifier Notifier
	log      *slog.Logger
	metrics  *Metrics
	opts     RetryOptions

	mu        sync.Mutex
	lastErr   string    // last failure logged; "" after a success
	holdUntil time.Time // no request before this: the server's last Retry-After
}

var _ Notifier = (*Retrier)(nil)

// NewRetrier wraps n, named name in logs and metrics.
func NewRetrier(name string, n Notifier, log *slog.Logger, m *Metrics, o RetryOptions) *Retrier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	o.Attempts = orDefault(o.Attempts, 5)
	o.MaxElapsed = orDefault(o.MaxElapsed, 2*time.Minute)
	o.MinBackoff = orDefault(o.MinBackoff, time.Second)
	o.MaxBackoff = orDefault(o.MaxBackoff, 30*time.Second)
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return &Retrier{name: name, notifier: n, log: log, metrics: m, opts: o}
}

// Notify delivers the batch, retrying what may succeed later. It never asks
// its caller to retry: the batch was delivered or given up and counted.
func (r *Retrier) Notify(ctx context.Context, b Batch) (bool, error) {
	if err := r.hold(ctx); err != nil {
		r.metrics.failed.WithLabelValues(r.name).Inc()
		return false, err
	}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		retry, err := r.notifier.Notify(ctx, b)
		if err == nil {
			r.succeeded()
			return false, nil
		}
		r.failed(attempt, err)
		wait := r.backoff(attempt, err)
		if !retry || attempt >= r.opts.Attempts || time.Since(start)+wait > r.opts.MaxElapsed {
			r.holdFor(err)
			r.metrics.failed.WithLabelValues(r.name).Inc()
			return false, err
		}
		if r.opts.Sleep(ctx, wait) != nil {
			r.metrics.failed.WithLabelValues(r.name).Inc()
			return false, err
		}
		r.metrics.retries.WithLabelValues(r.name).Inc()
	}
}

// backoff is the server's Retry-After when it gave one, else exponential
// from MinBackoff (capped at MaxBackoff) plus up to half again as jitter:
// never less than MinBackoff, so retries too keep to one message a second.
func (r *Retrier) backoff(attempt int, err error) time.Duration {
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter
	}
	d := min(r.opts.MinBackoff<<min(attempt-1, 16), r.opts.MaxBackoff)
	return d + rand.N(d/2+1)
}

// holdFor remembers the Retry-After of the answer a batch was given up on
// (capped at MaxElapsed): it is about the webhook, not that batch, so the
// next batch waits for it too instead of going out a second later.
func (r *Retrier) holdFor(err error) {
	var se *StatusError
	if !errors.As(err, &se) || se.RetryAfter <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.holdUntil = time.Now().Add(min(se.RetryAfter, r.opts.MaxElapsed))
}

// hold waits until the last Retry-After a batch was given up on has passed.
func (r *Retrier) hold(ctx context.Context) error {
	r.mu.Lock()
	wait := time.Until(r.holdUntil)
	r.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	return r.opts.Sleep(ctx, wait)
}

func (r *Retrier) succeeded() {
	r.metrics.sent.WithLabelValues(r.name).Inc()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastErr != "" {
		r.log.Info("notifications recovered", "notifier", r.name)
		r.lastErr = ""
	}
}

// failed logs err unless it repeats the last failure logged.
func (r *Retrier) failed(attempt int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if msg := err.Error(); msg != r.lastErr {
		r.log.Warn("notification failed", "notifier", r.name, "attempt", attempt, "err", msg)
		r.lastErr = msg
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Metrics counts what the notification pipeline did, per notifier.
type Metrics struct {
	sent    *prometheus.CounterVec
	failed  *prometheus.CounterVec
	retries *prometheus.CounterVec
	dropped *prometheus.CounterVec
	queue   *prometheus.GaugeVec
}

// NewMetrics creates the notification metrics and registers them on reg
// (nil: not registered, for tests and callers without /metrics).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tether_notify_messages_sent_total",
			Help: "Messages (batches of events) delivered, by notifier.",
		}, []string{"notifier"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tether_notify_messages_failed_total",
			Help: "Messages given up on after a permanent error or the last retry, by notifier.",
		}, []string{"notifier"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tether_notify_retries_total",
			Help: "Delivery attempts repeated after a 429, a 5xx or a network error, by notifier.",
		}, []string{"notifier"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tether_notify_events_dropped_total",
			Help: "Events dropped because the notifier's queue was full, by notifier.",
		}, []string{"notifier"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tether_notify_queue_length",
			Help: "Events waiting in the notifier's queue.",
		}, []string{"notifier"}),
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.failed, m.retries, m.dropped, m.queue)
	}
	return m
}
