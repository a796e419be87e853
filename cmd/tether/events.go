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
		if p := ev.Preview; p != nil {
			attrs = append(attrs, previewAttrs(p)...)
		}
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
			attrs = append(attrs, messageKey(ev.Type), ev.Message)
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
	case reconcile.EventPruneSkipped:
		return "prune skipped", slog.LevelWarn
	case reconcile.EventModelInvalid:
		return "model invalid", slog.LevelError
	case reconcile.EventSyncFailed:
		return "sync failed", slog.LevelError
	case reconcile.EventFetchFailed:
		return "fetch failed", slog.LevelError
	case reconcile.EventVerificationFailed:
		return "commit refused", slog.LevelError
	case reconcile.EventPreviewCreated:
		return "preview created", slog.LevelInfo
	case reconcile.EventPreviewDeleted:
		return "preview deleted", slog.LevelInfo
	case reconcile.EventPreviewCapped:
		return "preview refs left out", slog.LevelWarn
	}
	return "event", slog.LevelInfo
}

// messageKey is the log key of an event's message: an error, except for
// the previews' own events, where it says what and why.
func messageKey(t reconcile.EventType) string {
	switch t {
	case reconcile.EventPreviewCreated:
		return "detail"
	case reconcile.EventPreviewDeleted, reconcile.EventPreviewCapped:
		return "reason"
	}
	return "err"
}

// previewAttrs name the preview environment of an event: its id, ref and
// namespaces, those that are known.
func previewAttrs(p *reconcile.PreviewRef) []any {
	var attrs []any
	if p.ID != "" {
		attrs = append(attrs, "preview", p.ID)
	}
	if p.Ref != "" {
		attrs = append(attrs, "ref", p.Ref)
	}
	if len(p.Namespaces) > 0 {
		attrs = append(attrs, "namespaces", p.Namespaces)
	}
	return attrs
}

func keyStrings(keys []reconcile.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return out
}
