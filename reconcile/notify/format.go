package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tether-ml/tether/reconcile"
)

// maxValue caps one rendered field value; drift reports need the gist, the
// full value is in Git and in the cluster.
const maxValue = 80

// Value renders one side of a field change for a report: masked when
// sensitive (reconcile masks at the source; this guards events built elsewhere), "<removed>" when the field is gone, JSON for maps and lists,
// truncated to maxValue runes.
func Value(obj reconcile.Key, c reconcile.FieldChange, live bool) string {
	if reconcile.Sensitive(obj, c.Path) {
		return reconcile.Masked
	}
	v := c.Desired
	if live {
		if c.Removed {
			return "<removed>"
		}
		v = c.Live
	}
	return truncate(scalar(v), maxValue)
}

func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "<none>"
	case string:
		return x
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

// MaskedDiff renders a drift's changes as "path: desired -> live; ...", with
// sensitive values masked, for log lines.
func MaskedDiff(d *reconcile.Drift) string { return diffString(d, "->") }

func diffString(d *reconcile.Drift, arrow string) string {
	if d == nil {
		return ""
	}
	if d.Deleted {
		return "deleted"
	}
	parts := make([]string, len(d.Changes))
	for i, c := range d.Changes {
		parts[i] = fmt.Sprintf("%s: %s %s %s", c.Path, Value(d.Object, c, false), arrow, Value(d.Object, c, true))
	}
	return strings.Join(parts, ", ")
}

// truncate shortens s to at most n runes, ending in "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// escape makes s safe inside Slack mrkdwn: &, < and > are control characters,
// and a backtick would end an inline code span early.
func escape(s string) string {
	return mrkdwnEscaper.Replace(s)
}

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "'")

// code renders s as inline code.
func code(s string) string { return "`" + escape(s) + "`" }

// shortRev is the first 12 characters of a commit, enough to be unique.
func shortRev(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// slackTime renders t in the reader's time zone, with UTC as the fallback.
func slackTime(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	utc := t.UTC().Format(time.RFC3339)
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time_secs}|%s>", t.Unix(), utc)
}
