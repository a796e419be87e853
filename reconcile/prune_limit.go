package reconcile

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/render"
)

// defaultKeepRuns applies when a Job carries no keep-runs annotation.
const defaultKeepRuns = 3

// minBlockedDeletions: the percentage guard never blocks fewer deletions than this.
const minBlockedDeletions = 10

// PruneLimit is --max-prune: a share of the managed objects ("50%") or a count ("25").
type PruneLimit struct {
	Percent int // used when IsPercent
	Count   int
	IsCount bool
}

// ParsePruneLimit parses "N%" or "N".
func ParsePruneLimit(s string) (PruneLimit, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 100 {
			return PruneLimit{}, fmt.Errorf("%q: expected a percentage 0%%-100%% or a count", s)
		}
		return PruneLimit{Percent: n}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return PruneLimit{}, fmt.Errorf("%q: expected a percentage such as 50%% or a count such as 25", s)
	}
	return PruneLimit{Count: n, IsCount: true}, nil
}

func (p PruneLimit) String() string {
	if p.IsCount {
		return strconv.Itoa(p.Count)
	}
	return strconv.Itoa(p.Percent) + "%"
}

// Blocks reports whether deleting deletions of managed objects exceeds the
// limit. A percentage never blocks fewer than 10 deletions.
func (p PruneLimit) Blocks(deletions, managed int) bool {
	if p.IsCount {
		return deletions > p.Count
	}
	return deletions > max(managed*p.Percent/100, minBlockedDeletions)
}

// runInfo is what keepRuns needs to know about one training Job.
type runInfo struct {
	Key      Key
	Created  time.Time
	Finished bool
	Desired  bool // the Job of the current training spec
}

// retainRuns returns the training Jobs to delete: finished runs beyond keep,
// oldest first. The current Job and running Jobs are never deleted.
func retainRuns(runs []runInfo, keep int) []Key {
	sort.Slice(runs, func(i, j int) bool { return runs[i].Created.After(runs[j].Created) })
	var del []Key
	finished := 0
	for _, r := range runs {
		switch {
		case r.Desired:
			if r.Finished {
				finished++
			}
		case !r.Finished:
		case finished < keep:
			finished++
		default:
			del = append(del, r.Key)
		}
	}
	return del
}

// prunePlan is what a revision would delete, per unit, and the units that left
// Git entirely (their records go once their members are gone).
type prunePlan struct {
	deletes map[string][]*member
	removed []string
	total   int
}

// prune deletes what left Git, unless the mass-deletion guard holds it back.
// Units that failed to render or apply, and suspended units, prune nothing.
func (l *Loop) prune(ctx context.Context, p *pass) bool {
	if !l.cfg.Prune {
		return true
	}
	plan := l.planPrune(p)
	if plan.total == 0 && len(plan.removed) == 0 {
		return true
	}
	if reason := l.pruneGuard(p, plan.total); reason != "" {
		if p.newRev {
			l.cfg.Log.Warn("prune blocked", "revision", p.snap.Revision, "deletions", plan.total, "reason", reason)
			l.emit(Event{Type: EventPruneBlocked, Time: time.Now(), Revision: p.snap.Revision, Count: plan.total, Message: reason})
		}
		l.cfg.Metrics.pruneBlocked()
		return true
	}
	for unit, members := range plan.deletes {
		l.deleteMembers(ctx, p, unit, members)
	}
	for _, unit := range plan.removed {
		if len(l.state.memberList(unit)) == 0 {
			p.touch(unit) // the record step deletes the parent
		}
	}
	return true
}

// pruneGuard returns why deleting total objects is refused, or "".
func (l *Loop) pruneGuard(p *pass, total int) string {
	if p.res.Settings.AllowMassPrune {
		return ""
	}
	managed := l.state.managedCount()
	if len(p.res.Units) == 0 && managed > 0 {
		return fmt.Sprintf("the revision renders no models while %d objects are managed; set allowMassPrune: true in tether.yaml to allow it", managed)
	}
	if l.cfg.MaxPrune.Blocks(total, managed) {
		return fmt.Sprintf("%d of %d managed objects would be deleted, more than --max-prune %s; set allowMassPrune: true in tether.yaml for this change or raise --max-prune", total, managed, l.cfg.MaxPrune)
	}
	return ""
}

// planPrune works out, per unit, which members to delete.
func (l *Loop) planPrune(p *pass) prunePlan {
	plan := prunePlan{deletes: map[string][]*member{}}
	rendered := map[string]bool{}
	for _, u := range p.res.Units {
		rendered[u.Name] = true
	}
	for _, name := range l.state.unitNames() {
		u, desired := p.desired[name]
		var dels []*member
		switch {
		case !rendered[name]:
			dels = l.state.memberList(name)
			plan.removed = append(plan.removed, name)
		case !desired || p.hasFailed(name) || u.Suspend:
			continue
		default:
			dels = l.staleMembers(p, u)
		}
		if len(dels) > 0 {
			plan.deletes[name] = dels
			plan.total += len(dels)
		}
	}
	return plan
}

// staleMembers are members of u it no longer renders, minus the training runs
// keepRuns retains.
func (l *Loop) staleMembers(p *pass, u *render.Unit) []*member {
	want := desiredKeys(p, u)
	keep := keepRunsOf(p.objects[u.Name])
	var stale []*member
	var runs []runInfo
	byKey := map[Key]*member{}
	for _, m := range l.state.memberList(u.Name) {
		byKey[m.key] = m
		if m.key.Kind == "Job" && m.key.Group == "batch" {
			runs = append(runs, l.runInfo(m.key, want[m.key]))
			continue
		}
		if !want[m.key] {
			stale = append(stale, m)
		}
	}
	for _, k := range retainRuns(runs, keep) {
		stale = append(stale, byKey[k])
	}
	return stale
}

// runInfo reads a training Job's age and completion from the watch cache.
func (l *Loop) runInfo(key Key, desired bool) runInfo {
	r := runInfo{Key: key, Desired: desired, Finished: true}
	if live, ok := l.watcher.live(key); ok {
		r.Created, r.Finished = live.CreationTimestamp.Time, live.finished
	}
	return r
}

func jobFinished(job *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(job.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if (m["type"] == "Complete" || m["type"] == "Failed") && m["status"] == "True" {
			return true
		}
	}
	return false
}

// keepRunsOf is the keepRuns a unit's training Jobs carry, or the default.
func keepRunsOf(objs []desired) int {
	for _, d := range objs {
		if d.keepRuns > 0 {
			return d.keepRuns
		}
	}
	return defaultKeepRuns
}

// deleteMembers deletes members of one unit and forgets them.
func (l *Loop) deleteMembers(ctx context.Context, p *pass, unit string, members []*member) {
	var pruned []Key
	for _, m := range members {
		unlock := l.locks.lock(m.key)
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
		err := l.cfg.Applier.Delete(wctx, m.gvk(), m.key)
		cancel()
		if err == nil {
			l.state.forget(unit, m.key)
		}
		unlock()
		if err != nil {
			l.cfg.Log.Error("prune failed", "revision", p.snap.Revision, "model", unit, "object", m.key.String(), "err", err)
			continue
		}
		pruned = append(pruned, m.key)
		l.cfg.Metrics.objectPruned(m.key.Kind)
		l.cfg.Log.Info("pruned", "revision", p.snap.Revision, "model", unit, "object", m.key.String())
	}
	if len(pruned) > 0 {
		p.touch(unit)
		l.emit(Event{Type: EventPruned, Time: time.Now(), Revision: p.snap.Revision, Unit: unit, Count: len(pruned), Objects: pruned, Action: "pruned"})
	}
}
