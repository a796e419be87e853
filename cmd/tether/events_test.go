package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/tether-ml/tether/reconcile"
)

// TestEventMessages: every event type is logged under a message of its own,
// never the catch-all "event" that says nothing about what happened (the
// fault suite found PruneSkipped logged as "event").
func TestEventMessages(t *testing.T) {
	tests := []struct {
		ev    reconcile.Event
		msg   string
		level string
	}{
		{reconcile.Event{Type: reconcile.EventApplied}, "applied", "INFO"},
		{reconcile.Event{Type: reconcile.EventPruned}, "pruned", "INFO"},
		{reconcile.Event{Type: reconcile.EventPruneSkipped, Unit: "m009", Message: "adopted: ..."}, "prune skipped", "WARN"},
		{reconcile.Event{Type: reconcile.EventPruneBlocked}, "prune blocked", "WARN"},
		{reconcile.Event{Type: reconcile.EventPruneFailed}, "prune failed", "ERROR"},
		{reconcile.Event{Type: reconcile.EventFight}, "drift fight", "WARN"},
		{reconcile.Event{Type: reconcile.EventDrift, Action: reconcile.ActionReverted}, "drift reverted", "INFO"},
		{reconcile.Event{Type: reconcile.EventDrift, Action: reconcile.ActionReported}, "drift detected", "WARN"},
		{reconcile.Event{Type: reconcile.EventModelInvalid}, "model invalid", "ERROR"},
		{reconcile.Event{Type: reconcile.EventSyncFailed}, "sync failed", "ERROR"},
		{reconcile.Event{Type: reconcile.EventFetchFailed}, "fetch failed", "ERROR"},
		{reconcile.Event{Type: reconcile.EventVerificationFailed}, "commit refused", "ERROR"},
	}
	for _, tt := range tests {
		t.Run(string(tt.ev.Type), func(t *testing.T) {
			var buf bytes.Buffer
			tt.ev.Time = time.Now()
			logEvents(slog.New(slog.NewJSONHandler(&buf, nil)))(tt.ev)
			var line struct{ Msg, Level string }
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, buf.String())
			}
			if line.Msg != tt.msg || line.Level != tt.level {
				t.Errorf("logged %q at %s, want %q at %s", line.Msg, line.Level, tt.msg, tt.level)
			}
		})
	}
}
