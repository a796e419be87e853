package main

import (
	"log/slog"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/notify"
)

// logEvents is the event sink until notifiers exist: every event becomes a log line.
func logEvents(log *slog.Logger) reconcile.Sink {
	return func(ev reconcile.Event) {
		attrs := []any{"event", string(ev.Type), "revision", ev.Revision}
		if ev.Unit != "" {
			attrs = append(attrs, "model", ev.Unit)
		}
		if ev.Object != nil {
			attrs = append(attrs, "object", ev.Object.String())
		}
		if ev.Action != "" {
			attrs = append(attrs, "action", ev.Action)
		}
		if d := ev.Drift; d != nil {
			attrs = append(attrs, "diff", notify.MaskedDiff(d), "manager", d.Manager)
		}
		if ev.Message != "" {
			attrs = append(attrs, "message", ev.Message)
		}
		if ev.Count > 0 {
			attrs = append(attrs, "count", ev.Count)
		}
		log.Info(eventMessage(ev.Type), attrs...)
	}
}

func eventMessage(t reconcile.EventType) string {
	switch t {
	case reconcile.EventDriftDetected:
		return "drift detected"
	case reconcile.EventDriftReverted:
		return "drift reverted"
	case reconcile.EventPruneBlocked:
		return "prune blocked"
	case reconcile.EventPruned:
		return "pruned"
	case reconcile.EventVerificationFailed:
		return "commit refused"
	}
	return "event"
}
