package notify

import (
	"fmt"
	"strings"

	"github.com/tether-ml/tether/reconcile"
)

// The kinds of item a message counts in its header.
const (
	kindReverted     = "drift reverted"
	kindReported     = "drift reported"
	kindRevertFailed = "revert failed"
	kindFight        = "fight"
	kindSyncFailed   = "sync failure"
	kindInvalid      = "invalid model"
	kindFetchFailed  = "fetch failure"
	kindUnverified   = "unverified commit"
	kindPruneBlocked = "prune blocked"
	kindHeld         = "revision held"
	kindApplied      = "revision applied"
	kindDigest       = "drift digest"
)

// maxError caps an error quoted in a message.
const maxError = 1500

// driftItem reports one drift: the object, each field with desired → live,
// who changed it and when, what tether did, and the revision.
func driftItem(ev reconcile.Event) item {
	d := ev.Drift
	it := item{sev: sevReverted, kind: kindReverted}
	action, emoji := "reverted", ":arrows_counterclockwise:"
	switch ev.Action {
	case reconcile.ActionReverted:
	case reconcile.ActionRevertFailed:
		it.sev, it.kind, action, emoji = sevFailed, kindRevertFailed, "revert failed", ":rotating_light:"
	default:
		it.sev, it.kind, action, emoji = sevReported, kindReported, "reported only", ":warning:"
	}
	obj := d.Object
	head := fmt.Sprintf("%s *Drift %s* on *%s %s*", emoji, action, obj.Kind, escape(namespaced(obj)))
	if ev.Unit != "" {
		head += " · model " + code(ev.Unit)
	}
	manager := "an unknown manager"
	if d.Manager != "" {
		manager = code(d.Manager)
	}
	foot := fmt.Sprintf("Changed by %s at %s · action: *%s* · revision %s", manager, slackTime(d.Time), action, code(shortRev(ev.Revision)))
	fields := changeLines(d)
	if ev.Message != "" {
		foot += "\n```" + escape(truncate(ev.Message, maxError)) + "```"
	}
	it.text = lines(head, fields, "fields", len(foot)+1) + "\n" + foot
	it.line = fmt.Sprintf("drift %s on %s (%s) by %s, revision %s", action, escape(obj.String()),
		escape(truncate(diffString(d, "→"), 300)), escape(orUnknown(d.Manager)), ev.Revision)
	return it
}

// fightItem reports, once per fight, that another actor keeps undoing
// tether's reverts of an object and that tether slows down.
func fightItem(ev reconcile.Event) item {
	d := ev.Drift
	manager := "another actor"
	if d.Manager != "" {
		manager = code(d.Manager)
	}
	head := fmt.Sprintf(":crossed_swords: *tether and %s are fighting* over *%s %s*", manager, d.Object.Kind, escape(namespaced(d.Object)))
	if ev.Unit != "" {
		head += " · model " + code(ev.Unit)
	}
	foot := "tether keeps reverting, less and less often, until the other side stops; then Git's value wins. " +
		"Stop the other writer, or change the model in Git · revision " + code(shortRev(ev.Revision))
	it := item{sev: sevBlocked, kind: kindFight}
	it.text = lines(head, changeLines(d), "fields", len(foot)+1) + "\n" + foot
	it.line = escape(truncate(ev.Message, 300))
	return it
}

func changeLines(d *reconcile.Drift) []string {
	if d.Deleted {
		return []string{"• the object was deleted"}
	}
	out := make([]string, len(d.Changes))
	for i, c := range d.Changes {
		out[i] = fmt.Sprintf("• %s: %s → %s", code(c.Path), code(Value(d.Object, c, false)), code(Value(d.Object, c, true)))
	}
	return out
}

func namespaced(k reconcile.Key) string {
	if k.Namespace == "" {
		return k.Name
	}
	return k.Namespace + "/" + k.Name
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// failureItem reports a sync failure, an invalid model or a failed fetch with
// its error.
func failureItem(ev reconcile.Event) item {
	it := item{sev: sevFailed}
	var head string
	switch ev.Type {
	case reconcile.EventModelInvalid:
		it.kind = kindInvalid
		head = fmt.Sprintf(":no_entry: *Invalid model* %s at revision %s: skipped; its live objects stay as last applied", code(ev.Unit), code(shortRev(ev.Revision)))
	case reconcile.EventFetchFailed:
		it.kind = kindFetchFailed
		head = ":x: *Fetch failed*: drift is still reverted against the last applied revision"
	case reconcile.EventVerificationFailed:
		it.kind = kindUnverified
		head = ":closed_lock_with_key: *Commit not verified*"
		if ev.Revision != "" {
			head += " " + code(shortRev(ev.Revision))
		}
		head += ": it is not applied; the last good revision stays"
	default:
		it.kind = kindSyncFailed
		head = ":x: *Sync failed*"
		if ev.Unit != "" {
			head += " for model " + code(ev.Unit)
		}
		head += " at revision " + code(shortRev(ev.Revision))
	}
	it.text = head + "\n```" + escape(truncate(ev.Message, maxError)) + "```"
	it.line = fmt.Sprintf("%s: %s %s: %s", it.kind, ev.Unit, ev.Revision, escape(truncate(ev.Message, 300)))
	return it
}

// pruneItem reports deletions the mass-deletion guard held back, and how to
// let them through.
func pruneItem(ev reconcile.Event) item {
	head := fmt.Sprintf(":octagonal_sign: *Prune blocked* at revision %s: %d deletions held back by the mass-deletion guard; nothing was pruned",
		code(shortRev(ev.Revision)), ev.Count)
	if ev.Unit != "" {
		head += " (model " + code(ev.Unit) + ")"
	}
	text := head
	if ev.Message != "" {
		text += "\n" + escape(truncate(ev.Message, maxError))
	}
	text += "\nTo let it through: set `allowMassPrune: true` in `tether.yaml` in the commit that makes this change, or raise `--max-prune`."
	return item{sev: sevBlocked, kind: kindPruneBlocked, text: text,
		line: fmt.Sprintf("prune blocked at revision %s: %d deletions held back; set allowMassPrune: true or raise --max-prune", ev.Revision, ev.Count)}
}

// heldItem reports a revision a sync window holds back, once per model and
// revision: which windows, when it is applied, and how to sync it now.
func heldItem(ev reconcile.Event) item {
	head := fmt.Sprintf(":hourglass_flowing_sand: *Sync held* for model %s: revision %s waits for a sync window; its objects stay as last applied and drift is still reverted unless the window says `revertDrift: false`",
		code(ev.Unit), code(shortRev(ev.Revision)))
	text := head
	if ev.Message != "" {
		text += "\n" + escape(truncate(ev.Message, maxError))
	}
	text += "\nTo apply it sooner: remove or change the window in `tether.yaml` (that commit is adopted at once)."
	return item{sev: sevBlocked, kind: kindHeld, text: text,
		line: fmt.Sprintf("sync held for model %s at revision %s: %s", ev.Unit, ev.Revision, escape(truncate(ev.Message, 300)))}
}

// appliedItem summarises one revision's applied models.
func appliedItem(revision string, events []reconcile.Event) item {
	models := make([]string, 0, len(events))
	objects := 0
	for _, ev := range events {
		if ev.Unit != "" {
			models = append(models, code(ev.Unit))
		}
		objects += ev.Count
	}
	text := fmt.Sprintf(":white_check_mark: *Revision %s applied*: %s", code(shortRev(revision)), strings.Join(models, ", "))
	if objects > 0 {
		text += fmt.Sprintf(" (%d objects)", objects)
	}
	return item{sev: sevInfo, kind: kindApplied, text: truncate(text, maxSectionText),
		line: fmt.Sprintf("revision %s applied: %d models", revision, len(events))}
}

// digestItem lists drift per model and the most changed objects.
func digestItem(d *DriftDigest) item {
	it := item{sev: sevInfo, kind: kindDigest}
	since := slackTime(d.Since)
	if d.Total == 0 {
		it.text = fmt.Sprintf(":bar_chart: *Drift digest*: no drift since %s", since)
		it.line = "drift digest: no drift"
		return it
	}
	var rows []string
	rows = append(rows, "*Per model*")
	for _, e := range d.Models {
		rows = append(rows, fmt.Sprintf("• %s: %d", code(e.Name), e.Drifts))
	}
	rows = append(rows, "*Most changed objects*")
	for _, e := range d.Objects {
		rows = append(rows, fmt.Sprintf("• %s: %d", escape(e.Name), e.Drifts))
	}
	it.text = lines(fmt.Sprintf(":bar_chart: *Drift digest*: %d drifts since %s", d.Total, since), rows, "lines", 0)
	it.line = fmt.Sprintf("drift digest: %d drifts in %d models", d.Total, len(d.Models))
	return it
}
