package plan

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

var textSigns = map[Action]string{ActionCreate: "+", ActionUpdate: "~", ActionDelete: "-", ActionRetain: "=", ActionUnchanged: " "}

// Text is the plan for a terminal: the same content as Markdown, never cut.
func (p *Plan) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tether plan: %s\n%s\n", p.Summary, p.revisionLine(func(s string) string { return s }))
	if bs := p.blockers(); len(bs) > 0 {
		b.WriteString("\nBlockers:\n")
		for _, bl := range bs {
			subject := ":"
			if bl.subject != "" {
				subject = " " + bl.subject + ":"
			}
			fmt.Fprintf(&b, "  %s%s %s\n", bl.kind, subject, bl.msg)
		}
	}
	if ps := p.prunes(); len(ps) > 0 {
		fmt.Fprintf(&b, "\nWould prune (%d):\n", len(ps))
		for _, pr := range ps {
			fmt.Fprintf(&b, "  %s (%s %s)\n", pr.object, pr.unitKind, pr.unit)
		}
	}
	if ws := p.warnings(); len(ws) > 0 {
		b.WriteString("\nWarnings:\n")
		for _, w := range ws {
			fmt.Fprintf(&b, "  %s\n", w)
		}
	}
	p.textResources(&b)
	for i := range p.Units {
		textUnit(&b, &p.Units[i])
	}
	return b.String()
}

func (p *Plan) textResources(b *strings.Builder) {
	rows := p.resourceRows()
	if len(rows) == 0 {
		return
	}
	b.WriteString("\nResources:\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  UNIT\tSTATUS\t%s\n", strings.ToUpper(strings.Join(resourceColumns, "\t")))
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.name, r.status, strings.Join(r.cells, "\t"))
	}
	_ = tw.Flush()
}

func textUnit(b *strings.Builder, u *Unit) {
	counts := objectCounts(u.Objects)
	if counts != "" {
		counts = " (" + counts + ")"
	}
	fmt.Fprintf(b, "\n%s %s: %s%s\n", u.Kind, u.Name, u.Status, counts)
	for _, n := range u.Notes {
		fmt.Fprintf(b, "  %s\n", n)
	}
	for _, e := range u.Errors {
		fmt.Fprintf(b, "  error: %s\n", e)
	}
	for i := range u.Objects {
		o := &u.Objects[i]
		if o.Action == ActionUnchanged && !o.DriftUndone && len(o.Drift) == 0 && !o.blocked() {
			continue
		}
		fmt.Fprintf(b, "  %s %s %s\n", textSigns[o.Action], o.Action, o.String())
		for _, n := range o.Notes {
			fmt.Fprintf(b, "      %s\n", n)
		}
		for _, bl := range o.Blockers {
			fmt.Fprintf(b, "      would fail: %s\n", bl)
		}
		if o.Error != "" {
			fmt.Fprintf(b, "      error: %s\n", o.Error)
		}
		if o.DriftUndone {
			b.WriteString("      live drift that merging would undo\n")
		}
		for _, c := range o.Drift {
			fmt.Fprintf(b, "      drift: %s\n", driftLine(c))
		}
		for _, line := range splitLines(o.Diff) {
			fmt.Fprintf(b, "      %s\n", line)
		}
	}
}
