package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-ml/tether/render"
)

// prunePlan is what a revision would delete, per unit, and the units that left
// Git entirely (their records go once their members are gone).
type prunePlan struct {
	deletes map[string][]*member
	removed []string
	total   int
}

// prune deletes what left Git, unless the mass-deletion guard holds it back.
// Units that failed to render or apply, and suspended units, prune nothing.
func (l *Loop) prune(ctx context.Context, p *pass) (bool, error) {
	if !l.cfg.Prune {
		return false, nil
	}
	plan := l.planPrune(p)
	if plan.total == 0 && len(plan.removed) == 0 {
		return false, nil
	}
	if reason := l.pruneGuard(p, plan.total); reason != "" {
		if p.newRev {
			l.emit(Event{Type: EventPruneBlocked, Time: time.Now(), Revision: p.snap.Revision, Count: plan.total, Message: reason})
		}
		l.cfg.Metrics.pruneBlocked()
		return false, nil
	}
	for unit, members := range plan.deletes {
		l.deleteMembers(ctx, p, unit, members)
	}
	for _, unit := range plan.removed {
		if len(l.state.memberList(unit)) == 0 {
			p.touch(unit) // the save step deletes the record
		}
	}
	return false, nil
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
	for _, name := range l.state.unitNames() {
		u, desired := p.desired[name]
		_, rendered := p.rendered(name)
		var dels []*member
		switch {
		case !rendered:
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

// deleteMembers deletes members of one unit and forgets them. What could not
// be deleted stays a member, so the next pass tries again.
func (l *Loop) deleteMembers(ctx context.Context, p *pass, unit string, members []*member) {
	var pruned []Key
	var errs []error
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
			errs = append(errs, err)
			continue
		}
		pruned = append(pruned, m.key)
		l.cfg.Metrics.objectPruned(m.key.Kind)
	}
	if len(pruned) > 0 {
		p.touch(unit)
		l.emit(Event{Type: EventPruned, Time: time.Now(), Revision: p.snap.Revision, Unit: unit, Count: len(pruned), Objects: pruned, Action: ActionPruned})
	}
	if len(errs) > 0 {
		l.emit(Event{Type: EventPruneFailed, Time: time.Now(), Revision: p.snap.Revision, Unit: unit, Count: len(errs), Message: errors.Join(errs...).Error()})
	}
}
