package plan

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// blocker is one reason the plan exits 1, as the formats list them first.
type blocker struct {
	kind    string // invalid, would fail, error, blocked
	subject string // a unit or an object; "" for the revision
	msg     string
}

// blockers lists what would fail: errors of the revision, invalid units,
// objects the API server would refuse, and the guard holding back prunes.
func (p *Plan) blockers() []blocker {
	var out []blocker
	for _, e := range p.Errors {
		out = append(out, blocker{kind: "error", msg: e})
	}
	for _, u := range p.Units {
		for _, e := range u.Errors {
			out = append(out, blocker{kind: "invalid", subject: u.Name, msg: e})
		}
		for i := range u.Objects {
			o := &u.Objects[i]
			for _, b := range o.Blockers {
				out = append(out, blocker{kind: "would fail", subject: o.String(), msg: b})
			}
			if o.Error != "" {
				out = append(out, blocker{kind: "error", subject: o.String(), msg: o.Error})
			}
		}
	}
	if p.pruneBlocked() {
		out = append(out, blocker{kind: "blocked", msg: "the mass-deletion guard prunes nothing: " + p.Guard.Reason})
	}
	return out
}

// prune is one object the merge would delete.
type prune struct{ object, unitKind, unit string }

func (p *Plan) prunes() []prune {
	var out []prune
	for _, u := range p.Units {
		for i := range u.Objects {
			if o := &u.Objects[i]; o.Action == ActionDelete {
				out = append(out, prune{o.String(), u.Kind, u.Name})
			}
		}
	}
	return out
}

// warnings are the revision's and every unit's warnings, without repeats.
func (p *Plan) warnings() []string {
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	for _, w := range p.Warnings {
		add(w)
	}
	for _, u := range p.Units {
		for _, w := range u.Warnings {
			add(w)
		}
	}
	if p.Guard.Blocked && !p.pruneBlocked() {
		add("the mass-deletion guard would block this revision's prunes in other units: " + p.Guard.Reason)
	}
	return out
}

// resourceRow is one line of the resource table.
type resourceRow struct {
	name, status string
	cells        []string // replicas, GPU, CPU, memory, training run
}

var resourceColumns = []string{"replicas", "GPU", "CPU requests", "memory requests", "training run"}

// resourceRows are the units that ask for anything in either revision, then the total.
func (p *Plan) resourceRows() []resourceRow {
	var out []resourceRow
	for _, u := range p.Units {
		if u.Resources.Base == (Usage{}) && u.Resources.Head == (Usage{}) {
			continue
		}
		out = append(out, resourceRow{u.Name, string(u.Status), usageCells(u.Resources)})
	}
	if len(out) == 0 {
		return nil
	}
	return append(out, resourceRow{"total", "", usageCells(p.Resources)})
}

func usageCells(c Change) []string {
	return []string{
		rangeCell(c.Base.Replicas, c.Head.Replicas, plainInt),
		rangeCell(c.Base.GPU, c.Head.GPU, plainInt),
		rangeCell(c.Base.CPU, c.Head.CPU, formatCPU),
		rangeCell(c.Base.Memory, c.Head.Memory, formatMemory),
		runCell(c.Base.Training, c.Head.Training),
	}
}

// rangeCell is "2" when unchanged, else "2 → 2..10 (+0..+8)".
func rangeCell(base, head Range, format func(int64) string) string {
	if base == head {
		return rangeString(head, format)
	}
	return fmt.Sprintf("%s → %s (%s)", rangeString(base, format), rangeString(head, format), signedRange(head.minus(base), format))
}

func runCell(base, head Run) string {
	if base == head {
		return runString(head)
	}
	return runString(base) + " → " + runString(head)
}

// runString describes one training run: "1 GPU, 2 CPU, 8Gi, ≤ 24h0m0s".
func runString(r Run) string {
	if r == (Run{}) {
		return "-"
	}
	parts := []string{}
	if r.GPU > 0 {
		parts = append(parts, fmt.Sprintf("%d GPU", r.GPU))
	}
	parts = append(parts, formatCPU(r.CPU)+" CPU", formatMemory(r.Memory))
	if r.MaxSeconds > 0 {
		parts = append(parts, "≤ "+formatSeconds(r.MaxSeconds))
	}
	return strings.Join(parts, ", ")
}

// formatSeconds is a duration without zero units: 24h, 1h30m, 90s.
func formatSeconds(s int64) string {
	d := (time.Duration(s) * time.Second).String()
	if strings.HasSuffix(d, "m0s") {
		d = strings.TrimSuffix(d, "0s")
	}
	if strings.HasSuffix(d, "h0m") {
		d = strings.TrimSuffix(d, "0m")
	}
	return d
}

// objectCounts is "1 created, 2 updated, 3 unchanged".
func objectCounts(objs []Object) string {
	order := []Action{ActionCreate, ActionUpdate, ActionDelete, ActionRetain, ActionUnchanged}
	words := map[Action]string{ActionCreate: "created", ActionUpdate: "updated", ActionDelete: "pruned", ActionRetain: "kept", ActionUnchanged: "unchanged"}
	counts := map[Action]int{}
	for _, o := range objs {
		counts[o.Action]++
	}
	var parts []string
	for _, a := range order {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], words[a]))
		}
	}
	return strings.Join(parts, ", ")
}

// revisionLine says what was compared: "base 1a2b3c4d5e6f (merge base of
// main) → head 5d6e7f8a9b0c (HEAD)".
func (p *Plan) revisionLine(code func(string) string) string {
	mode := "offline, from the two renders"
	if p.Cluster {
		mode = "against the live cluster (server-side dry-run)"
	}
	return fmt.Sprintf("base %s (merge base of %s) → head %s (%s) · %s",
		code(shortHash(p.Base.Commit)), code(p.Base.Ref), code(shortHash(p.Head.Commit)), code(p.Head.Ref), mode)
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// driftLine describes one drifted field for people.
func driftLine(c FieldChange) string {
	by := ""
	if c.Manager != "" {
		by = " by " + c.Manager
	}
	live := fmt.Sprint(jsonValue(c.Live))
	if c.Removed {
		live = "(removed)"
	}
	return fmt.Sprintf("%s: live %s (set%s) → Git %s", c.Path, live, by, jsonValue(c.Git))
}

// jsonValue renders a field value compactly.
func jsonValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// JSON is the plan for tools: the same content as the other formats.
func (p *Plan) JSON() ([]byte, error) {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Formats are the names Format accepts.
var Formats = []string{"markdown", "json", "text"}

// Format renders the plan as markdown (cut to maxBytes, 0 for no limit,
// naming fullPlan as where the whole plan is), json or text.
func (p *Plan) Format(format string, maxBytes int, fullPlan string) ([]byte, error) {
	switch format {
	case "markdown":
		return []byte(p.Markdown(maxBytes, fullPlan)), nil
	case "json":
		return p.JSON()
	case "text":
		return []byte(p.Text()), nil
	}
	return nil, fmt.Errorf("format %q: expected markdown, json or text", format)
}
