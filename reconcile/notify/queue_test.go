package notify_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tether-ml/tether/e2e/slackrecv"
	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/notify"
)

// run starts p and returns a function that stops it and waits until what was
// pending has been delivered.
func run(p *notify.Pipeline) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// TestQueueNeverBlocks: with Slack hanging, Sink keeps returning at once; the
// queue holds what it can and counts the rest as dropped.
func TestQueueNeverBlocks(t *testing.T) {
	recv := slackrecv.New(t)
	release := make(chan struct{})
	recv.Respond(func(int) slackrecv.Reply { <-release; return slackrecv.Reply{} })
	reg := prometheus.NewRegistry()
	p, err := notify.NewPipeline(notify.Options{Registry: reg, Queue: notify.QueueOptions{Size: 10, Window: 50 * time.Millisecond, MinInterval: time.Millisecond}},
		notify.Target{Name: "slack", Notifier: notify.NewSlack(notify.StaticURL(recv.URL), "prod")})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(p)
	ev := driftEvent(deployment("a"), "reverted", change("spec.replicas", 1, 2))
	p.Sink(ev)
	waitFor(t, "the worker is stuck in a hanging POST", func() bool { return recv.Attempts() == 1 })
	for range 1000 {
		p.Sink(ev) // returns although the receiver hangs
	}
	if got := metric(t, reg, "tether_notify_events_dropped_total", "slack"); got != 990 {
		t.Errorf("dropped = %v, want 990", got)
	}
	if got := metric(t, reg, "tether_notify_queue_length", "slack"); got != 10 {
		t.Errorf("queue length = %v, want 10", got)
	}
	close(release)
	waitFor(t, "the hanging message, then the 10 queued in one batch", func() bool {
		return metric(t, reg, "tether_notify_messages_sent_total", "slack") == 2
	})
	stop()
}

// TestBatching: 100 drifts arriving together become one message within
// Slack's limits, capped with "+N more".
func TestBatching(t *testing.T) {
	recv := slackrecv.New(t)
	p, err := notify.NewPipeline(notify.Options{Cluster: "prod", Queue: notify.QueueOptions{Window: 2 * time.Second}},
		notify.Target{Name: "slack", Notifier: notify.NewSlack(notify.StaticURL(recv.URL), "prod")})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(p)
	defer stop()
	for i := range 100 {
		p.Sink(driftEvent(deployment("m"+strings.Repeat("x", i%7)+string(rune('a'+i%26))), "reverted", change("spec.replicas", 1, i)))
	}
	waitFor(t, "a message", func() bool { return len(recv.Messages()) > 0 })
	msgs := recv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if len(m.Blocks) != slackrecv.MaxBlocks {
		t.Errorf("%d blocks, want %d", len(m.Blocks), slackrecv.MaxBlocks)
	}
	for _, want := range []string{"100 drifts reverted", "+52 more: 52 drifts reverted"} {
		if !strings.Contains(m.Render(), want) {
			t.Errorf("message lacks %q", want)
		}
	}
}

// TestQueueFlushesOnShutdown: events pending when the daemon stops are sent.
func TestQueueFlushesOnShutdown(t *testing.T) {
	recv := slackrecv.New(t)
	p, err := notify.NewPipeline(notify.Options{Queue: notify.QueueOptions{Window: time.Hour}},
		notify.Target{Name: "slack", Notifier: notify.NewSlack(notify.StaticURL(recv.URL), "prod")})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(p)
	p.Sink(driftEvent(deployment("a"), "reverted", change("spec.replicas", 1, 2)))
	stop()
	if n := len(recv.Messages()); n != 1 {
		t.Errorf("%d messages after shutdown, want 1", n)
	}
}

// recorder is a Notifier that keeps what it was given.
type recorder struct {
	mu      sync.Mutex
	events  []reconcile.Event
	digests []*notify.DriftDigest
}

func (r *recorder) Notify(_ context.Context, b notify.Batch) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, b.Events...)
	if b.Digest != nil {
		r.digests = append(r.digests, b.Digest)
	}
	return false, nil
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		out = append(out, string(ev.Type)+":"+ev.Revision+":"+ev.Message)
	}
	return out
}
