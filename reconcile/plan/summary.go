package plan

import (
	"fmt"
	"strings"

	"github.com/tether-ml/tether/render"
)

// finish fills in what follows from the units: resource totals, the
// summary line and the exit code.
func (p *Plan) finish() {
	var total Change
	for _, u := range p.Units {
		total = total.add(u.Resources)
	}
	p.Resources = total
	p.Summary = p.summary()
	p.ExitCode = p.exitCode()
}

// exitCode is 1 when something would fail or is invalid, 2 when the merge
// changes something in the cluster, 0 otherwise.
func (p *Plan) exitCode() int {
	if len(p.Errors) > 0 || p.pruneBlocked() {
		return ExitFailed
	}
	changes := false
	for _, u := range p.Units {
		if u.Status == StatusInvalid {
			return ExitFailed
		}
		for i := range u.Objects {
			if u.Objects[i].blocked() {
				return ExitFailed
			}
			changes = changes || u.Objects[i].changes()
		}
	}
	if changes {
		return ExitChanges
	}
	return ExitNoChanges
}

// pruneBlocked reports whether the guard holds back a deletion the plan shows.
func (p *Plan) pruneBlocked() bool { return p.Guard.Blocked && countDeletions(p.Units) > 0 }

// summary is the one line that opens a plan, such as
// "2 models changed, 1 added · GPU +2 · 1 prune".
func (p *Plan) summary() string {
	var parts []string
	if len(p.Errors) > 0 {
		parts = append(parts, plural(len(p.Errors), "error"))
	}
	units := strings.Join(append(unitCounts(p.Units, render.KindModelUnit), unitCounts(p.Units, render.KindBundleUnit)...), "; ")
	if units == "" {
		units = "no changes"
	}
	parts = append(parts, units)
	if gpu := p.Resources.Head.GPU.minus(p.Resources.Base.GPU); !gpu.isZero() {
		parts = append(parts, "GPU "+signedRange(gpu, plainInt))
	}
	if d := p.Resources.Head.Training.GPU - p.Resources.Base.Training.GPU; d != 0 {
		parts = append(parts, "training run GPU "+signed(d, plainInt))
	}
	if n := countDeletions(p.Units); n > 0 {
		prunes := plural(n, "prune")
		if p.Guard.Blocked {
			prunes += " blocked"
		}
		parts = append(parts, prunes)
	}
	failing, drifted := 0, 0
	for _, u := range p.Units {
		for i := range u.Objects {
			if u.Objects[i].blocked() {
				failing++
			}
			if u.Objects[i].DriftUndone || len(u.Objects[i].Drift) > 0 {
				drifted++
			}
		}
	}
	if drifted > 0 {
		parts = append(parts, fmt.Sprintf("drift undone on %s", plural(drifted, "object")))
	}
	if failing > 0 {
		parts = append(parts, fmt.Sprintf("%d would fail", failing))
	}
	return strings.Join(parts, " · ")
}

// unitCounts counts the units of one kind by status: "2 models changed", "1 added".
func unitCounts(units []Unit, kind string) []string {
	order := []Status{StatusChanged, StatusAdded, StatusRemoved, StatusInvalid, StatusSuspended}
	counts := map[Status]int{}
	for _, u := range units {
		if u.Kind == kind {
			counts[u.Status]++
		}
	}
	var out []string
	for _, s := range order {
		if n := counts[s]; n > 0 {
			if len(out) == 0 {
				out = append(out, fmt.Sprintf("%s %s", plural(n, kind), s))
			} else {
				out = append(out, fmt.Sprintf("%d %s", n, s))
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return []string{strings.Join(out, ", ")}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Formatters of figures.
func plainInt(n int64) string { return fmt.Sprint(n) }

// signed writes a delta with its sign: +2, -500m, 0.
func signed(n int64, format func(int64) string) string {
	if n > 0 {
		return "+" + format(n)
	}
	return format(n)
}

// signedRange is a delta that may differ between an autoscaler's bounds: +2 or +2..+10.
func signedRange(r Range, format func(int64) string) string {
	if r.Min == r.Max {
		return signed(r.Min, format)
	}
	return signed(r.Min, format) + ".." + signed(r.Max, format)
}

// rangeString is a figure that may range: 2 or 2..10.
func rangeString(r Range, format func(int64) string) string {
	if r.Min == r.Max {
		return format(r.Min)
	}
	return format(r.Min) + ".." + format(r.Max)
}

func joinComma(items []string) string { return strings.Join(items, ", ") }
