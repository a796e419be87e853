package plan

import (
	"fmt"
	"strings"
)

// MarkerPrefix starts the hidden first line of every markdown plan; CI finds
// the comment it posted before by the whole line (see Marker).
const MarkerPrefix = "<!-- tether-plan"

// Marker is the hidden first line of the markdown plan. It names the path,
// the model selection and the mode, so that two plans in one pull request
// (two repository paths, offline and --cluster) each update their own comment.
func (p *Plan) Marker() string {
	attrs := []string{MarkerPrefix}
	if p.Path != "" {
		attrs = append(attrs, "path="+strings.ReplaceAll(p.Path, ">", "%3E"))
	}
	if len(p.Models) > 0 {
		attrs = append(attrs, "models="+strings.Join(p.Models, ","))
	}
	if p.Cluster {
		attrs = append(attrs, "cluster")
	}
	return strings.Join(attrs, " ") + " -->"
}

// Markdown is the plan as a pull-request comment: the marker, a one-line
// summary, blockers and prunes before any detail, the resource table, then
// one <details> per unit with its diffs. Past maxBytes (0: no limit) it is
// cut between pieces, what is open is closed, and a note says what was left
// out and that the full plan is in fullPlan ("" when not written anywhere).
func (p *Plan) Markdown(maxBytes int, fullPlan string) string {
	d := &doc{}
	d.write(fmt.Sprintf("%s\n### tether plan: %s\n\n%s\n", p.Marker(), mdText(p.Summary), p.revisionLine(mdCode)))
	p.mdLists(d)
	p.mdResources(d)
	p.mdUnits(d)
	return d.cut(maxBytes, func(overview bool, cut []string, partial string) string {
		return truncationNote(maxBytes, fullPlan, overview, cut, partial)
	})
}

// mdLists writes the blockers, the prunes and the warnings, each a bullet list.
func (p *Plan) mdLists(d *doc) {
	if bs := p.blockers(); len(bs) > 0 {
		d.write("\n#### ⛔ Blockers\n\n")
		for _, b := range bs {
			subject := ":"
			if b.subject != "" {
				subject = " " + mdCode(b.subject) + ":"
			}
			d.write(fmt.Sprintf("- **%s**%s %s\n", b.kind, subject, mdText(b.msg)))
		}
	}
	if ps := p.prunes(); len(ps) > 0 {
		title := "Would prune"
		if p.Guard.Blocked {
			title = "Would prune, but the guard blocks it"
		}
		d.write(fmt.Sprintf("\n#### 🗑️ %s (%d)\n\n", title, len(ps)))
		for _, pr := range ps {
			d.write(fmt.Sprintf("- %s (%s %s)\n", mdCode(pr.object), pr.unitKind, mdCode(pr.unit)))
		}
	}
	if ws := p.warnings(); len(ws) > 0 {
		d.write("\n#### ⚠️ Warnings\n\n")
		for _, w := range ws {
			d.write("- " + mdText(w) + "\n")
		}
	}
}

// mdResources writes the table of resource deltas, the total first: each
// row is a piece, so a cut keeps the total and the head of the table.
func (p *Plan) mdResources(d *doc) {
	rows := p.resourceRows()
	if len(rows) == 0 {
		return
	}
	d.write("\n#### Resources\n\n| unit | status | " + strings.Join(resourceColumns, " | ") + " |\n" +
		"|---|---|" + strings.Repeat("---|", len(resourceColumns)) + "\n")
	for _, r := range append(rows[len(rows)-1:], rows[:len(rows)-1]...) {
		name := mdCode(r.name)
		if r.status == "" {
			name = "**" + r.name + "**"
		}
		cells := make([]string, len(r.cells))
		for i, c := range r.cells {
			cells[i] = mdCell(c)
		}
		d.write(fmt.Sprintf("| %s | %s | %s |\n", name, r.status, strings.Join(cells, " | ")))
	}
}

// mdUnits writes one <details> per unit that changes or has something to
// say, and names the unchanged ones in one line.
func (p *Plan) mdUnits(d *doc) {
	var quiet []string
	first := true
	for _, u := range p.Units {
		if u.Status == StatusUnchanged && len(u.Notes) == 0 && !anyDrift(u.Objects) {
			quiet = append(quiet, mdCode(u.Name))
			continue
		}
		if first {
			d.write("\n#### Changes\n\n")
			first = false
		}
		d.section(u.Name)
		p.mdUnit(d, &u)
		d.section("")
	}
	if len(quiet) > 0 {
		d.write(fmt.Sprintf("\nUnchanged: %s\n", strings.Join(quiet, ", ")))
	}
}

func (p *Plan) mdUnit(d *doc, u *Unit) {
	counts := objectCounts(u.Objects)
	if counts != "" {
		counts = " · " + counts
	}
	d.push(fmt.Sprintf("<details><summary><b>%s</b> (%s) · %s%s</summary>\n\n", u.Name, u.Kind, u.Status, counts), "</details>\n\n")
	for _, n := range u.Notes {
		d.write("- " + mdText(n) + "\n")
	}
	for _, e := range u.Errors {
		d.write("- ⛔ " + mdText(e) + "\n")
	}
	if len(u.Notes)+len(u.Errors) > 0 {
		d.write("\n")
	}
	for i := range u.Objects {
		if o := &u.Objects[i]; o.Action != ActionUnchanged || o.DriftUndone || len(o.Drift) > 0 || o.blocked() {
			mdObject(d, o)
		}
	}
	d.pop()
}

var actionSigns = map[Action]string{ActionCreate: "➕", ActionUpdate: "✏️", ActionDelete: "🗑️", ActionRetain: "⏸️", ActionUnchanged: "·"}

func mdObject(d *doc, o *Object) {
	d.write(fmt.Sprintf("%s **%s** %s\n", actionSigns[o.Action], o.Action, mdCode(o.String())))
	for _, n := range o.Notes {
		d.write("- " + mdText(n) + "\n")
	}
	for _, b := range o.Blockers {
		d.write("- ⛔ would fail: " + mdText(b) + "\n")
	}
	if o.Error != "" {
		d.write("- ⛔ error: " + mdText(o.Error) + "\n")
	}
	if o.DriftUndone {
		d.write("- ↩️ live drift that merging would undo\n")
	}
	for _, c := range o.Drift {
		d.write("  - " + mdText(driftLine(c)) + "\n")
	}
	if o.Diff != "" {
		f := fence(o.Diff)
		d.push("\n"+f+"diff\n", f+"\n")
		for _, line := range splitLines(o.Diff) {
			d.write(line + "\n")
		}
		d.pop()
	}
	d.write("\n")
}

func anyDrift(objs []Object) bool {
	for i := range objs {
		if objs[i].DriftUndone || len(objs[i].Drift) > 0 || objs[i].blocked() {
			return true
		}
	}
	return false
}

// truncationNote says that the plan was cut, what is missing and where the full plan is.
func truncationNote(maxBytes int, fullPlan string, overview bool, cut []string, partial string) string {
	var missing []string
	if overview {
		missing = append(missing, "the rest of the overview")
	}
	if partial != "" {
		missing = append(missing, "the rest of "+mdCode(partial))
	}
	named := cut[:min(len(cut), maxNamedCuts)]
	for i, name := range named {
		named[i] = mdCode(name)
	}
	if len(named) > 0 {
		list := strings.Join(named, ", ")
		if more := len(cut) - len(named); more > 0 {
			list += fmt.Sprintf(" and %d more", more)
		}
		missing = append(missing, "the details of "+list)
	}
	where := "run `tether plan` with `--output FILE` for the full plan"
	if fullPlan != "" {
		where = "the full plan is in " + mdCode(fullPlan)
	}
	what := "the rest of the plan"
	if len(missing) > 0 {
		what = strings.Join(missing, " and ")
	}
	return fmt.Sprintf("\n---\n✂️ **Truncated** to %d bytes (`--max-bytes`): %s are not shown; %s.\n", maxBytes, what, where)
}

// mdCode is an inline code span that survives backticks in s.
func mdCode(s string) string {
	f := strings.Repeat("`", longestBackticks(s)+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return f + " " + s + " " + f
	}
	return f + s + f
}

// mdText escapes text for markdown outside code: HTML (so <hidden> shows)
// and the characters that start emphasis, links or code.
var mdEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\\", "\\\\", "`", "\\`", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]", "|", "\\|")

func mdText(s string) string { return mdEscaper.Replace(s) }

// mdCell is a table cell: text with pipes escaped.
func mdCell(s string) string { return mdText(s) }
