package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/notify"
)

func TestPipelineFilters(t *testing.T) {
	drift := driftEvent(deployment("a"), "reverted", change("spec.replicas", 1, 2))
	drift.Revision = "r1"
	failed := func(rev, msg string) reconcile.Event {
		return reconcile.Event{Type: reconcile.EventSyncFailed, Revision: rev, Unit: "a", Message: msg}
	}
	all := []reconcile.Event{
		drift,
		failed("r1", "boom"), failed("r1", "boom"), failed("r1", "bang"), failed("r2", "bang"),
		{Type: reconcile.EventModelInvalid, Revision: "r1", Unit: "b", Message: "bad"},
		{Type: reconcile.EventModelInvalid, Revision: "r1", Unit: "b", Message: "bad"},
		{Type: reconcile.EventPruneBlocked, Revision: "r1", Count: 30},
		{Type: reconcile.EventApplied, Revision: "r1", Unit: "a"},
		{Type: reconcile.EventPruned, Revision: "r1", Count: 2},
		{Type: reconcile.EventSyncHeld, Revision: "r1", Unit: "a", Message: "opens at 06:00"},
		{Type: reconcile.EventSyncHeld, Revision: "r1", Unit: "a", Message: "opens at 07:00"},
		{Type: reconcile.EventSyncHeld, Revision: "r2", Unit: "a", Message: "opens at 07:00"},
	}
	tests := []struct {
		name    string
		on      []string
		success bool
		want    []string
	}{
		{"defaults: drift, failures once per revision and error, prune, held once per revision", nil, false, []string{
			"Drift:r1:", "SyncFailed:r1:boom", "SyncFailed:r1:bang", "SyncFailed:r2:bang", "ModelInvalid:r1:bad", "PruneBlocked:r1:",
			"SyncHeld:r1:opens at 06:00", "SyncHeld:r2:opens at 07:00"}},
		{"drift only", []string{"drift"}, false, []string{"Drift:r1:"}},
		{"prune and success", []string{"prune"}, true, []string{"PruneBlocked:r1:", "Applied:r1:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := deliver(t, notify.Options{On: tt.on, Success: tt.success}, all...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("delivered (-want +got):\n%s", diff)
			}
		})
	}
}

// deliver runs events through a pipeline with options o and returns what
// reached its notifier, as recorder.types says.
func deliver(t *testing.T, o notify.Options, events ...reconcile.Event) []string {
	t.Helper()
	rec := &recorder{}
	o.Queue = notify.QueueOptions{Window: time.Hour}
	p, err := notify.NewPipeline(o, notify.Target{Name: "rec", Notifier: rec})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(p)
	for _, ev := range events {
		p.Sink(ev)
	}
	stop()
	return rec.types()
}

func TestPipelineOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		o    notify.Options
		want string
	}{
		{"unknown category", notify.Options{On: []string{"drift", "everything"}}, `notify-on "everything": expected a comma-separated list of drift, failure, prune`},
		{"bad schedule", notify.Options{DigestSchedule: "0 9 * *"}, `digest-schedule "0 9 * *"`},
		// issue 11: these made the digest loop spin (or post every second)
		{"schedule that never fires", notify.Options{DigestSchedule: "0 0 30 2 *"}, `digest-schedule "0 0 30 2 *": never fires (no such date within five years)`},
		{"never fires in a time zone", notify.Options{DigestSchedule: "CRON_TZ=UTC 0 9 31 4 *"}, `never fires`},
		{"under a second", notify.Options{DigestSchedule: "@every 100ms"}, `digest-schedule "@every 100ms": 100ms is under 1s`},
		{"zero", notify.Options{DigestSchedule: "@every 0s"}, `digest-schedule "@every 0s": 0s is under 1s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notify.NewPipeline(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestDigest: drift counted between two scheduled digests, per model and per
// object, and a fresh count afterwards.
func TestDigest(t *testing.T) {
	rec := &recorder{}
	p, err := notify.NewPipeline(notify.Options{On: []string{"failure"}, DigestSchedule: "@every 1s", Queue: notify.QueueOptions{Window: 50 * time.Millisecond}},
		notify.Target{Name: "rec", Notifier: rec})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(p)
	defer stop()
	for _, name := range []string{"a", "a", "b"} {
		ev := driftEvent(deployment(name), "reported")
		ev.Unit = "model-" + name
		p.Sink(ev)
	}
	var digests []*notify.DriftDigest
	waitFor(t, "two digests", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.events) > 0 {
			t.Fatalf("drift delivered although --notify-on failure: %v", rec.events[0].Type)
		}
		digests = append([]*notify.DriftDigest(nil), rec.digests...)
		return len(digests) >= 2
	})
	want := []notify.DigestEntry{{Name: "model-a", Drifts: 2}, {Name: "model-b", Drifts: 1}}
	if d := digests[0]; d.Total != 3 || !cmp.Equal(d.Models, want) || d.Objects[0] != (notify.DigestEntry{Name: "Deployment/ml/a", Drifts: 2}) {
		t.Errorf("first digest = %+v", d)
	}
	if d := digests[1]; d.Total != 0 || !d.Since.Equal(digests[0].Until) {
		t.Errorf("second digest = %+v, want empty, starting where the first ended", d)
	}
}
