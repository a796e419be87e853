package notify_test

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tether-ml/tether/reconcile"
)

var (
	when     = time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)
	revision = "4f0c1e9a7b2d3c5e6f708192a3b4c5d6e7f80912"
)

// driftEvent is a drift of obj that tether reverted, reported or failed to
// revert, as action says.
func driftEvent(obj reconcile.Key, action reconcile.Action, changes ...reconcile.FieldChange) reconcile.Event {
	d := &reconcile.Drift{Object: obj, Changes: changes, Manager: "kubectl-edit", Time: when}
	return reconcile.Event{Type: reconcile.EventDrift, Time: when, Revision: revision, Unit: "fraud-detector", Object: &obj, Action: action, Drift: d}
}

func deployment(name string) reconcile.Key {
	return reconcile.Key{Group: "apps", Kind: "Deployment", Namespace: "ml", Name: name}
}

func change(path string, desired, live any) reconcile.FieldChange {
	return reconcile.FieldChange{Path: path, Desired: desired, Live: live}
}

// logBuffer collects slog output safely from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(b *logBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// metric returns the value of a counter or gauge for one notifier.
func metric(t *testing.T, reg *prometheus.Registry, name, notifier string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "notifier" && l.GetValue() == notifier {
					if c := m.GetCounter(); c != nil {
						return c.GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// waitFor polls cond until it holds; the test's own deadline bounds it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
