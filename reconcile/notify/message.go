package notify

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tether-ml/tether/reconcile"
)

// severity orders what a message reports; the worst sets the header's emoji.
type severity int

const (
	sevInfo severity = iota
	sevReverted
	sevReported
	sevBlocked
	sevFailed
)

var headerEmoji = map[severity]string{
	sevInfo:     ":information_source:",
	sevReverted: ":arrows_counterclockwise:",
	sevReported: ":warning:",
	sevBlocked:  ":octagonal_sign:",
	sevFailed:   ":rotating_light:",
}

// item is one entry of a message: a section and a line of fallback text.
type item struct {
	sev  severity
	kind string // singular noun for the header's counts, e.g. "drift reverted"
	text string // section mrkdwn
	line string // fallback text
}

// BuildMessage renders a batch (events, or a digest) as one Slack message,
// worst first, within Slack's limits. It returns nil when nothing in it is
// worth a message.
func BuildMessage(cluster string, b Batch) *Message {
	items := itemsOf(b.Events)
	if b.Digest != nil {
		items = append(items, digestItem(b.Digest))
	}
	if len(items) == 0 {
		return nil
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].sev > items[j].sev })
	title := "tether"
	if cluster != "" {
		title += " · " + cluster
	}
	title += ": " + counts(items)
	m := &Message{Blocks: []Block{header(headerEmoji[items[0].sev] + " " + title)}}
	budget := maxBlocks - 2 // the header, and a "+N more" context when capped
	for i, it := range items {
		if i == budget && len(items) > budget+1 {
			m.Blocks = append(m.Blocks, contextBlock(fmt.Sprintf("+%d more: %s", len(items)-i, counts(items[i:]))))
			break
		}
		m.Blocks = append(m.Blocks, section(it.text))
	}
	m.Text = fallback(escape(title), items)
	return m
}

// itemsOf turns events into items: applied models are summed per revision,
// and event types without a report are left out.
func itemsOf(events []reconcile.Event) []item {
	var items []item
	applied := map[string][]reconcile.Event{}
	var revisions []string
	for _, ev := range events {
		if ev.Type == reconcile.EventApplied {
			if applied[ev.Revision] == nil {
				revisions = append(revisions, ev.Revision)
			}
			applied[ev.Revision] = append(applied[ev.Revision], ev)
		} else if it, ok := itemOf(ev); ok {
			items = append(items, it)
		}
	}
	for _, rev := range revisions {
		items = append(items, appliedItem(rev, applied[rev]))
	}
	return items
}

func itemOf(ev reconcile.Event) (item, bool) {
	switch ev.Type {
	case reconcile.EventDrift:
		if ev.Drift == nil {
			return item{}, false
		}
		return driftItem(ev), true
	case reconcile.EventFight:
		if ev.Drift == nil {
			return item{}, false
		}
		return fightItem(ev), true
	case reconcile.EventSyncFailed, reconcile.EventModelInvalid, reconcile.EventFetchFailed, reconcile.EventVerificationFailed:
		return failureItem(ev), true
	case reconcile.EventPruneBlocked:
		return pruneItem(ev), true
	case reconcile.EventPreviewCreated, reconcile.EventPreviewDeleted, reconcile.EventPreviewCapped:
		return previewItem(ev), true
	case reconcile.EventSyncHeld:
		return heldItem(ev), true
	}
	return item{}, false
}

// counts summarises items by kind, in order of first appearance:
// "2 drifts reverted, 1 sync failure".
func counts(items []item) string {
	n := map[string]int{}
	var kinds []string
	for _, it := range items {
		if n[it.kind] == 0 {
			kinds = append(kinds, it.kind)
		}
		n[it.kind]++
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = plural(n[k], k)
	}
	return strings.Join(parts, ", ")
}

// plural prefixes a count: "1 sync failure", "2 sync failures".
func plural(n int, kind string) string {
	if n == 1 {
		return "1 " + kind
	}
	if many, ok := plurals[kind]; ok {
		kind = many
	}
	return fmt.Sprintf("%d %s", n, kind)
}

var plurals = map[string]string{
	kindReverted: "drifts reverted", kindReported: "drifts reported", kindRevertFailed: "reverts failed", kindFight: "fights",
	kindSyncFailed: "sync failures", kindInvalid: "invalid models", kindFetchFailed: "fetch failures", kindUnverified: "unverified commits",
	kindPruneBlocked: "prunes blocked", kindApplied: "revisions applied", kindDigest: "drift digests",
	kindPreviewCreated: "previews created", kindPreviewDeleted: "previews deleted", kindPreviewCapped: "preview caps reached",
}

// fallback is the message's text: the title and one line per item, capped.
func fallback(title string, items []item) string {
	var b strings.Builder
	b.WriteString(title)
	for i, it := range items {
		more := fmt.Sprintf("\n+%d more", len(items)-i)
		if b.Len()+1+len(it.line)+len(more) > maxFallback {
			b.WriteString(more)
			break
		}
		b.WriteString("\n" + it.line)
	}
	return b.String()
}
