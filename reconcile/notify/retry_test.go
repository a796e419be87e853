package notify_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tether-ml/tether/e2e/slackrecv"
	"github.com/tether-ml/tether/reconcile/notify"
)

// waits records the pauses a Retrier asks for instead of taking them.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return ctx.Err()
}

func TestRetrier(t *testing.T) {
	tests := []struct {
		name      string
		replies   []slackrecv.Reply // answers in order; after the last, 200
		attempts  int               // requests the receiver sees
		waits     []time.Duration   // exact waits expected; nil: only count them
		sent      float64
		failed    float64
		errSubstr string
	}{
		{name: "429 honours Retry-After", replies: []slackrecv.Reply{{Status: 429, RetryAfter: "7", Body: "rate_limited"}},
			attempts: 2, waits: []time.Duration{7 * time.Second}, sent: 1},
		{name: "503 with Retry-After", replies: []slackrecv.Reply{{Status: 503, RetryAfter: "3"}},
			attempts: 2, waits: []time.Duration{3 * time.Second}, sent: 1},
		{name: "5xx retried with backoff", replies: []slackrecv.Reply{{Status: 503}, {Status: 500}, {Status: 502}},
			attempts: 4, sent: 1},
		{name: "4xx is not retried", replies: []slackrecv.Reply{{Status: 404, Body: "no_service"}},
			attempts: 1, failed: 1, errSubstr: "slack: HTTP 404 Not Found: no_service"},
		{name: "gives up after the last attempt", replies: []slackrecv.Reply{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}},
			attempts: 5, failed: 1, errSubstr: "HTTP 500"},
		{name: "a Retry-After beyond the budget gives up", replies: []slackrecv.Reply{{Status: 429, RetryAfter: "3600"}},
			attempts: 1, failed: 1, errSubstr: "HTTP 429"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv := slackrecv.New(t)
			recv.Respond(func(n int) slackrecv.Reply {
				if n <= len(tt.replies) {
					return tt.replies[n-1]
				}
				return slackrecv.Reply{}
			})
			reg := prometheus.NewRegistry()
			w := &waits{}
			r := notify.NewRetrier("slack", notify.NewSlack(notify.StaticURL(recv.URL), "prod"), nil, notify.NewMetrics(reg), notify.RetryOptions{Sleep: w.sleep})
			_, err := r.Notify(context.Background(), notify.Events(driftEvent(deployment("a"), "reverted", change("spec.replicas", 1, 2))))
			if tt.errSubstr == "" && err != nil || tt.errSubstr != "" && (err == nil || !strings.Contains(err.Error(), tt.errSubstr)) {
				t.Fatalf("err = %v, want one containing %q", err, tt.errSubstr)
			}
			if got := recv.Attempts(); got != tt.attempts {
				t.Errorf("receiver saw %d attempts, want %d", got, tt.attempts)
			}
			if tt.waits != nil && !equalDurations(w.d, tt.waits) {
				t.Errorf("waits = %v, want %v", w.d, tt.waits)
			}
			if len(w.d) != tt.attempts-1 && tt.failed == 0 {
				t.Errorf("%d waits for %d attempts", len(w.d), tt.attempts)
			}
			if got := metric(t, reg, "tether_notify_messages_sent_total", "slack"); got != tt.sent {
				t.Errorf("sent = %v, want %v", got, tt.sent)
			}
			if got := metric(t, reg, "tether_notify_messages_failed_total", "slack"); got != tt.failed {
				t.Errorf("failed = %v, want %v", got, tt.failed)
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// flaky fails with the errors it is given, then succeeds.
type flaky struct{ errs []error }

func (f *flaky) Notify(context.Context, notify.Batch) (bool, error) {
	if len(f.errs) == 0 {
		return false, nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return true, err
}

// TestRetrierLogsDistinctFailures: a failure is logged only when it differs
// from the previous one, and recovery once.
func TestRetrierLogsDistinctFailures(t *testing.T) {
	var logs logBuffer
	down, slow := errors.New("slack: post: connection refused"), errors.New("slack: HTTP 503 Service Unavailable")
	f := &flaky{errs: []error{down, down, down, slow, slow}}
	w := &waits{}
	r := notify.NewRetrier("slack", f, newLogger(&logs), nil, notify.RetryOptions{Attempts: 10, Sleep: w.sleep})
	if _, err := r.Notify(context.Background(), notify.Batch{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		n    int
	}{{"connection refused", 1}, {"HTTP 503", 1}, {"notifications recovered", 1}} {
		if got := strings.Count(logs.String(), tc.text); got != tc.n {
			t.Errorf("%q logged %d times, want %d:\n%s", tc.text, got, tc.n, logs.String())
		}
	}
}

func TestRetrierStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &flaky{errs: []error{errors.New("down"), errors.New("down")}}
	r := notify.NewRetrier("slack", f, nil, nil, notify.RetryOptions{})
	if _, err := r.Notify(ctx, notify.Batch{}); err == nil {
		t.Fatal("want the failure once the context is done")
	}
}

// TestRetrierKeepsRetryAfterAcrossBatches (issue 11, found by the fault
// suite): a batch given up on a 429 leaves its Retry-After in force, so the
// next batch waits for it instead of going out a second later, and a
// Retry-After beyond the retry budget holds for the budget at most.
func TestRetrierKeepsRetryAfterAcrossBatches(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		wantHold   time.Duration // the wait before the second batch's request, ± 1 s
	}{
		{"Retry-After 7", "7", 7 * time.Second},
		{"Retry-After beyond the budget", "3600", 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv := slackrecv.New(t)
			recv.Respond(func(n int) slackrecv.Reply {
				if n == 1 {
					return slackrecv.Reply{Status: 429, RetryAfter: tt.retryAfter, Body: "rate_limited"}
				}
				return slackrecv.Reply{}
			})
			w := &waits{}
			r := notify.NewRetrier("slack", notify.NewSlack(notify.StaticURL(recv.URL), "prod"), nil, nil, notify.RetryOptions{Attempts: 1, Sleep: w.sleep})
			batch := notify.Events(driftEvent(deployment("a"), "reverted", change("spec.replicas", 1, 2)))
			if _, err := r.Notify(context.Background(), batch); err == nil {
				t.Fatal("the first batch: no error, want it given up on the 429")
			}
			if _, err := r.Notify(context.Background(), batch); err != nil {
				t.Fatalf("the second batch: %v", err)
			}
			if len(w.d) != 1 || w.d[0] < tt.wantHold-time.Second || w.d[0] > tt.wantHold {
				t.Errorf("waits %v, want one of about %s before the second batch", w.d, tt.wantHold)
			}
		})
	}
}
