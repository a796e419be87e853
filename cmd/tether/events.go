package main

import (
	"context"
	"log/slog"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/notify"
)

// logEvents is the sink that logs every event the loop emits, once: the loop
// itself logs only what never becomes an event.
func logEvents(log *slog.Logger) reconcile.Sink {
	return func(ev reconcile.Event) {
		attrs := []any{"revision", ev.Revision}
		if ev.Unit != "" {
			attrs = append(attrs, "model", ev.Unit)
		}
		if ev.Object != nil {
			attrs = append(attrs, "object", ev.Object.String())
		}
		if ev.Action != "" {
			attrs = append(attrs, "action", string(ev.Action))
		}
		if d := ev.Drift; d != nil {
			attrs = append(attrs, "diff", notify.MaskedDiff(d), "manager", d.Manager)
		}
		if len(ev.Objects) > 0 {
			attrs = append(attrs, "objects", keyStrings(ev.Objects))
		}
		if ev.Count > 0 {
			attrs = append(attrs, "count", ev.Count)
		}
		if ev.Message != "" {
			key := "err"
			if ev.Type == reconcile.EventSyncHeld {
				key = "reason"
			}
			attrs = append(attrs, key, ev.Message)
		}
		msg, level := eventMessage(ev)
		log.Log(context.Background(), level, msg, attrs...)
	}
}

// eventMessage is the constant log message and level of an event.
func eventMessage(ev reconcile.Event) (string, slog.Level) {
	switch ev.Type {
	case reconcile.EventApplied:
		return "applied", slog.LevelInfo
	case reconcile.EventPruned:
		return "pruned", slog.LevelInfo
	case reconcile.EventDrift:
		switch ev.Action {
		case reconcile.ActionReverted:
			return "drift reverted", slog.LevelInfo
		case reconcile.ActionRevertFailed:
			return "revert failed", slog.LevelError
		}
		return "drift detected", slog.LevelWarn
	case reconcile.EventFight:
		return "drift fight", slog.LevelWarn
	case reconcile.EventPruneBlocked:
		return "prune blocked", slog.LevelWarn
	case reconcile.EventSyncHeld:
		return "sync held", slog.LevelInfo
	case reconcile.EventPruneFailed:
		return "prune failed", slog.LevelError
	case reconcile.EventModelInvalid:
		return "model invalid", slog.LevelError
	case reconcile.EventSyncFailed:
		return "sync failed", slog.LevelError
	case reconcile.EventFetchFailed:
		return "fetch failed", slog.LevelError
	case reconcile.EventVerificationFailed:
		return "commit refused", slog.LevelError
	}
	return "event", slog.LevelInfo
}

func keyStrings(keys []reconcile.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return out
}
