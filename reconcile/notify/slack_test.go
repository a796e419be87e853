package notify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/slackrecv"
	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/notify"
)

// TestSlackMessages posts every kind of batch to a receiver that enforces
// Slack's payload rules, and checks what a reader needs is in the message.
func TestSlackMessages(t *testing.T) {
	secret := reconcile.Key{Kind: "Secret", Namespace: "ml", Name: "creds"}
	reverted := driftEvent(deployment("fraud-detector"), "reverted", change("spec.replicas", int64(2), int64(5)))
	failed := driftEvent(deployment("fraud-detector"), "revert-failed", change("spec.replicas", int64(2), int64(5)))
	failed.Message = "Deployment/ml/fraud-detector: apply: the server is currently unable to handle the request"
	many := make([]reconcile.FieldChange, 500)
	for i := range many {
		many[i] = change(fmt.Sprintf("metadata.labels.l%03d", i), strings.Repeat("x", 200), "y")
	}
	var hundred []reconcile.Event
	for i := range 100 {
		hundred = append(hundred, driftEvent(deployment(fmt.Sprintf("model-%03d", i)), "reverted", change("spec.replicas", int64(1), int64(3))))
	}
	tests := []struct {
		name   string
		events []reconcile.Event
		want   []string // substrings of the rendered message
		absent []string
	}{
		{"drift reverted", []reconcile.Event{reverted},
			[]string{"tether · prod: 1 drift reverted", "Deployment ml/fraud-detector", "`spec.replicas`: `2` → `5`", "`kubectl-edit`", "2026-11-03T09:30:00Z", "action: *reverted*", "`4f0c1e9a7b2d`", "model `fraud-detector`"}, nil},
		{"revert failed", []reconcile.Event{failed},
			[]string{":rotating_light:", "1 revert failed", "Drift revert failed", "action: *revert failed*", "unable to handle the request"}, []string{"reverted*"}},
		{"drift reported only", []reconcile.Event{driftEvent(deployment("a"), "reported", change("spec.template.spec.containers[name=\"serve\"].image", "reg/a@sha256:1", "evil:latest"))},
			[]string{":warning:", "Drift reported only", "`evil:latest`", "action: *reported only*"}, nil},
		{"removed field", []reconcile.Event{driftEvent(deployment("a"), "reverted", reconcile.FieldChange{Path: "spec.template.metadata.labels.team", Desired: "risk", Removed: true})},
			[]string{"`risk` → `<removed>`"}, nil},
		{"deleted object", []reconcile.Event{{Type: reconcile.EventDrift, Revision: revision, Unit: "a", Action: "reverted",
			Drift: &reconcile.Drift{Object: deployment("a"), Deleted: true}}},
			[]string{"the object was deleted", "an unknown manager"}, nil},
		{"secret values masked", []reconcile.Event{driftEvent(secret, "reverted", change("data.password", "aHVudGVyMg==", "b3duZWQ="))},
			[]string{"`data.password`: `<hidden>` → `<hidden>`", "Secret ml/creds"}, []string{"aHVudGVyMg==", "b3duZWQ="}},
		{"long values truncated", []reconcile.Event{driftEvent(deployment("a"), "reverted", change("spec.template.spec.containers[name=\"serve\"].args", []any{strings.Repeat("--flag ", 100)}, nil))},
			[]string{"…`"}, []string{strings.Repeat("--flag ", 20)}},
		{"500 fields capped", []reconcile.Event{driftEvent(deployment("a"), "reverted", many...)},
			[]string{"more fields_"}, nil},
		{"fight", []reconcile.Event{func() reconcile.Event {
			ev := driftEvent(deployment("fraud-detector"), "", change("spec.replicas", int64(2), int64(9)))
			ev.Type, ev.Message = reconcile.EventFight, "tether and kubectl-edit are fighting over spec.replicas"
			return ev
		}()},
			[]string{":crossed_swords:", "1 fight", "tether and `kubectl-edit` are fighting* over *Deployment ml/fraud-detector*", "`spec.replicas`: `2` → `9`", "Git's value wins"}, nil},
		{"sync failure", []reconcile.Event{{Type: reconcile.EventSyncFailed, Revision: revision, Unit: "fraud-detector", Message: "Deployment/ml/fraud: apply: admission webhook denied <x>"}},
			[]string{":rotating_light:", "Sync failed", "model `fraud-detector`", "admission webhook denied <x>"}, nil},
		{"invalid model", []reconcile.Event{{Type: reconcile.EventModelInvalid, Revision: revision, Unit: "churn", Message: "models/churn/model.yaml:7: spec.image: required"}},
			[]string{"Invalid model", "`churn`", "spec.image: required", "last applied"}, nil},
		{"fetch failure", []reconcile.Event{{Type: reconcile.EventFetchFailed, Message: "fetch: connection refused"}},
			[]string{"Fetch failed", "connection refused"}, nil},
		{"unverified commit", []reconcile.Event{{Type: reconcile.EventVerificationFailed, Revision: revision, Message: "commit 4f0c1e9a: no trusted signature"}},
			[]string{":rotating_light:", "1 unverified commit", "Commit not verified* `4f0c1e9a7b2d`", "no trusted signature"}, nil},
		{"prune blocked", []reconcile.Event{{Type: reconcile.EventPruneBlocked, Revision: revision, Count: 37, Message: "37 of 40 managed objects"}},
			[]string{":octagonal_sign:", "Prune blocked", "37 deletions held back", "allowMassPrune: true", "--max-prune"}, nil},
		{"sync held", []reconcile.Event{{Type: reconcile.EventSyncHeld, Revision: revision, Unit: "fraud-detector",
			Message: `held by sync window deny "0 22 * * *" for 8h; applied when it opens at 2026-11-04T06:00:00Z`}},
			[]string{":octagonal_sign:", "1 revision held", "Sync held* for model `fraud-detector`", "`4f0c1e9a7b2d` waits", `deny "0 22 * * *" for 8h`, "2026-11-04T06:00:00Z", "tether.yaml"}, nil},
		{"applied revision summary", []reconcile.Event{{Type: reconcile.EventApplied, Revision: revision, Unit: "a", Count: 2}, {Type: reconcile.EventApplied, Revision: revision, Unit: "b", Count: 3}},
			[]string{"1 revision applied", "Revision `4f0c1e9a7b2d` applied*: `a`, `b` (5 objects)"}, nil},
		{"worst first", []reconcile.Event{reverted, {Type: reconcile.EventSyncFailed, Revision: revision, Unit: "b", Message: "boom"}},
			[]string{"1 sync failure, 1 drift reverted"}, nil},
		{"100 drifts in one message, capped", hundred,
			[]string{"100 drifts reverted", "+52 more: 52 drifts reverted"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv := slackrecv.New(t)
			s := notify.NewSlack(notify.StaticURL(recv.URL), "prod")
			if _, err := s.Notify(context.Background(), notify.Events(tt.events...)); err != nil {
				t.Fatal(err)
			}
			msgs := recv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1 (rejected: %v)", len(msgs), recv.Invalid())
			}
			got := msgs[0].Render() + "\n" + string(msgs[0].Raw)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("message lacks %q:\n%s", w, msgs[0].Render())
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("message contains %q:\n%s", a, msgs[0].Render())
				}
			}
		})
	}
}

// TestSlackDigest posts digests, which travel alone, to the same receiver.
func TestSlackDigest(t *testing.T) {
	tests := []struct {
		name   string
		digest *notify.DriftDigest
		want   []string
	}{
		{"digest", &notify.DriftDigest{Since: when, Total: 3,
			Models: []notify.DigestEntry{{Name: "fraud", Drifts: 2}, {Name: "churn", Drifts: 1}}, Objects: []notify.DigestEntry{{Name: "Deployment/ml/fraud", Drifts: 2}}},
			[]string{"Drift digest*: 3 drifts", "`fraud`: 2", "Deployment/ml/fraud: 2"}},
		{"empty digest", &notify.DriftDigest{Since: when},
			[]string{"no drift since"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertSlackMessage(t, notify.Batch{Digest: tt.digest}, tt.want...)
		})
	}
}

// assertSlackMessage posts b to a Slack stand-in and checks that it makes
// one valid message holding every string of want.
func assertSlackMessage(t *testing.T, b notify.Batch, want ...string) {
	t.Helper()
	recv := slackrecv.New(t)
	if _, err := notify.NewSlack(notify.StaticURL(recv.URL), "prod").Notify(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	msgs := recv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1 (rejected: %v)", len(msgs), recv.Invalid())
	}
	for _, w := range want {
		if got := msgs[0].Render(); !strings.Contains(got, w) {
			t.Errorf("message lacks %q:\n%s", w, got)
		}
	}
}

func TestSlackNothingToSay(t *testing.T) {
	recv := slackrecv.New(t)
	s := notify.NewSlack(notify.StaticURL(recv.URL), "")
	if _, err := s.Notify(context.Background(), notify.Events(reconcile.Event{Type: "SomethingNew"})); err != nil {
		t.Fatal(err)
	}
	if n := recv.Attempts(); n != 0 {
		t.Errorf("posted %d messages for events without a report", n)
	}
}

func TestValue(t *testing.T) {
	secret := reconcile.Key{Kind: "Secret", Namespace: "ml", Name: "s"}
	tests := []struct {
		name        string
		obj         reconcile.Key
		change      reconcile.FieldChange
		desired, lv string
	}{
		{"scalars", deployment("a"), change("spec.replicas", int64(2), int64(5)), "2", "5"},
		{"strings", deployment("a"), change("spec.x", "a", "b"), "a", "b"},
		{"maps as JSON", deployment("a"), change("spec.x", map[string]any{"cpu": "1"}, []any{"a"}), `{"cpu":"1"}`, `["a"]`},
		{"removed", deployment("a"), reconcile.FieldChange{Path: "spec.x", Desired: "a", Removed: true}, "a", "<removed>"},
		{"nil", deployment("a"), change("spec.x", nil, "b"), "<none>", "b"},
		{"truncated", deployment("a"), change("spec.x", strings.Repeat("é", 100), "b"), strings.Repeat("é", 79) + "…", "b"},
		{"secret data", secret, change("data.password", "c2VjcmV0", "b3RoZXI="), "<hidden>", "<hidden>"},
		{"secret stringData", secret, change("stringData.token", "t0k3n", "other"), "<hidden>", "<hidden>"},
		{"secret whole data", secret, change("data", map[string]any{"k": "v"}, nil), "<hidden>", "<hidden>"},
		{"secret label", secret, change("metadata.labels.team", "risk", "ops"), "risk", "ops"},
		{"secret type", secret, change("type", "Opaque", "kubernetes.io/tls"), "Opaque", "kubernetes.io/tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.Value(tt.obj, tt.change, false); got != tt.desired {
				t.Errorf("desired = %q, want %q", got, tt.desired)
			}
			if got := notify.Value(tt.obj, tt.change, true); got != tt.lv {
				t.Errorf("live = %q, want %q", got, tt.lv)
			}
		})
	}
}

func TestMaskedDiff(t *testing.T) {
	d := &reconcile.Drift{Object: reconcile.Key{Kind: "Secret", Namespace: "ml", Name: "s"},
		Changes: []reconcile.FieldChange{change("data.password", "c2VjcmV0", "b3RoZXI="), change("metadata.labels.a", "x", "y")}}
	if got, want := notify.MaskedDiff(d), "data.password: <hidden> -> <hidden>, metadata.labels.a: x -> y"; got != want {
		t.Errorf("MaskedDiff = %q, want %q", got, want)
	}
}

func ExampleBuildMessage() {
	obj := reconcile.Key{Group: "apps", Kind: "Deployment", Namespace: "ml", Name: "fraud-detector"}
	drift := &reconcile.Drift{Object: obj, Manager: "kubectl-edit", Time: time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC),
		Changes: []reconcile.FieldChange{{Path: "spec.replicas", Desired: int64(2), Live: int64(5)}}}
	ev := reconcile.Event{Type: reconcile.EventDrift, Revision: "4f0c1e9a7b2d3c5e", Unit: "fraud-detector",
		Object: &obj, Action: "reverted", Drift: drift}
	m := notify.BuildMessage("prod", notify.Events(ev))
	for _, b := range m.Blocks {
		fmt.Println(b.Text.Text)
	}
	// Output:
	// :arrows_counterclockwise: tether · prod: 1 drift reverted
	// :arrows_counterclockwise: *Drift reverted* on *Deployment ml/fraud-detector* · model `fraud-detector`
	// • `spec.replicas`: `2` → `5`
	// Changed by `kubectl-edit` at <!date^1793698200^{date_short_pretty} {time_secs}|2026-11-03T09:30:00Z> · action: *reverted* · revision `4f0c1e9a7b2d`
}
