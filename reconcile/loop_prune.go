package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tether-ml/tether/render"
)

// prunePlan is what a revision would delete, per unit, what it lets go
// without deleting, and the units that left Git entirely (their records go
// once their members are gone).
type prunePlan struct {
	deletes  map[string][]*member
	released map[string][]*member // adopted objects: forgotten, never deleted
	removed  []string
	total    int
}

// prune deletes what left Git, unless the mass-deletion guard holds it back.
// Units that failed to render or apply, and suspended units, prune nothing;
// an object any unit renders in this revision is never pruned.
func (l *Loop) prune(ctx context.Context, p *pass) (bool, error) {
	if !l.cfg.Prune {
		return false, nil
	}
	plan := l.planPrune(p)
	if plan.total == 0 && len(plan.removed) == 0 && len(plan.released) == 0 {
		return false, nil
	}
	if reason := l.pruneGuard(p, plan.total); reason != "" {
		if p.newRev {
			l.emit(Event{Type: EventPruneBlocked, Time: time.Now(), Revision: p.snap.Revision, Count: plan.total, Message: reason})
			for unit, members := range plan.deletes { // on each record concerned, too
				l.recordKube(Event{Type: EventPruneBlocked, Revision: p.snap.Revision, Unit: unit, Count: len(members), Message: reason})
			}
		}
		l.cfg.Metrics.pruneBlocked()
		return false, nil
	}
	for unit, members := range plan.released {
		l.release(p, unit, members)
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

// pruneGuard returns why deleting total objects is refused, or "". Only
// models count for "renders no models": a bundle left alone in a repository
// whose models/ folder was renamed by mistake does not make it a small change.
func (l *Loop) pruneGuard(p *pass, total int) string {
	if p.res.Settings.AllowMassPrune {
		return ""
	}
	managed := l.state.managedCount()
	if models, objects := renderedModels(p), l.state.modelObjects(); models == 0 && objects > 0 {
		return fmt.Sprintf("the revision renders no models while %d objects of models are managed; set allowMassPrune: true in tether.yaml to allow it", objects)
	}
	if l.cfg.MaxPrune.Blocks(total, managed) {
		return fmt.Sprintf("%d of %d managed objects would be deleted, more than --max-prune %s; set allowMassPrune: true in tether.yaml for this change or raise --max-prune", total, managed, l.cfg.MaxPrune)
	}
	return ""
}

func renderedModels(p *pass) int {
	n := 0
	for i := range p.res.Units {
		if unitKind(&p.res.Units[i]) == render.KindModelUnit {
			n++
		}
	}
	return n
}

// planPrune works out, per unit, which members to delete and which to let go.
func (l *Loop) planPrune(p *pass) prunePlan {
	plan := prunePlan{deletes: map[string][]*member{}, released: map[string][]*member{}}
	for _, name := range l.state.unitNames() {
		u, desired := p.desired[name]
		_, rendered := p.rendered(name)
		var stale []*member
		switch {
		case !rendered:
			stale = l.state.memberList(name)
			plan.removed = append(plan.removed, name)
		case !desired || p.hasFailed(name) || u.Suspend:
			continue
		default:
			stale = l.staleMembers(p, u)
		}
		for _, m := range stale {
			switch {
			case p.renderedAnywhere(m.key): // another unit takes it over
			case m.adopted:
				plan.released[name] = append(plan.released[name], m)
			default:
				plan.deletes[name] = append(plan.deletes[name], m)
				plan.total++
			}
		}
	}
	return plan
}

// staleMembers are members of u it no longer renders, minus the training runs
// keepRuns retains. Only a model's training Jobs are runs: a bundle's Jobs
// are pruned like anything else.
func (l *Loop) staleMembers(p *pass, u *render.Unit) []*member {
	want := desiredKeys(p, u)
	keep := keepRunsOf(p.objects[u.Name])
	var stale []*member
	var runs []runInfo
	byKey := map[Key]*member{}
	isModel := unitKind(u) == render.KindModelUnit
	for _, m := range l.state.memberList(u.Name) {
		byKey[m.key] = m
		if isModel && m.key.Kind == "Job" && m.key.Group == "batch" {
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

// runInfo reads a training Job's age and completion from the watch cache. A
// Job the cache does not know (yet) counts as running: it is kept.
func (l *Loop) runInfo(key Key, desired bool) runInfo {
	r := runInfo{Key: key, Desired: desired}
	if live, ok := l.watcher.live(key); ok {
		r.Created, r.Finished = live.CreationTimestamp.Time, live.finished
	} else if l.watcher.synced(key.GroupKind()) {
		r.Finished = true // gone: deleting it again is harmless
	}
	return r
}

// release lets adopted objects go: tether stops managing them and leaves them
// in place, since it did not create them.
func (l *Loop) release(p *pass, unit string, members []*member) {
	keys := make([]Key, len(members))
	for i, m := range members {
		l.state.forget(unit, m.key)
		keys[i] = m.key
	}
	p.touch(unit)
	l.emit(Event{Type: EventPruneSkipped, Time: time.Now(), Revision: p.snap.Revision, Unit: unit, Count: len(keys), Objects: keys,
		Message: "adopted: these objects existed before tether applied them, so tether leaves them in place and stops managing them"})
}

// deleteMembers deletes members of one unit that are still its own, and
// forgets them. What could not be deleted stays a member, and the unit is
// marked failed, so the next pass tries again even if the head stays.
func (l *Loop) deleteMembers(ctx context.Context, p *pass, unit string, members []*member) {
	if err := l.fence(ctx, p, unit); err != nil {
		p.fail(unit)
		return
	}
	var pruned, skipped []Key
	var errs, reasons []error
	for _, m := range members {
		deleted, err := l.deleteOwned(ctx, unit, m)
		var notOurs notOwned
		switch {
		case errors.As(err, &notOurs):
			skipped, reasons = append(skipped, m.key), append(reasons, err)
			l.state.forget(unit, m.key)
		case err != nil:
			errs = append(errs, err)
		case deleted:
			pruned = append(pruned, m.key)
			l.cfg.Metrics.objectPruned(m.key.Kind)
		}
	}
	if len(pruned)+len(skipped) > 0 {
		p.touch(unit)
	}
	now := time.Now()
	if len(pruned) > 0 {
		l.emit(Event{Type: EventPruned, Time: now, Revision: p.snap.Revision, Unit: unit, Count: len(pruned), Objects: pruned, Action: ActionPruned})
	}
	if len(skipped) > 0 {
		l.emit(Event{Type: EventPruneSkipped, Time: now, Revision: p.snap.Revision, Unit: unit, Count: len(skipped), Objects: skipped,
			Message: errors.Join(reasons...).Error()})
	}
	if len(errs) > 0 {
		p.fail(unit)
		l.emit(Event{Type: EventPruneFailed, Time: now, Revision: p.snap.Revision, Unit: unit, Count: len(errs), Message: errors.Join(errs...).Error()})
	}
}

// notOwned: the live object fails the ownership check; tether leaves it alone.
type notOwned struct{ error }

// deleteOwned deletes m's object if it is still the unit's: the live object
// must carry the unit's ApplySet part-of label, and the delete is made with
// the UID and resourceVersion that were checked, so an object replaced or
// changed in between is not deleted. It reports false when the object was
// already gone.
func (l *Loop) deleteOwned(ctx context.Context, unit string, m *member) (bool, error) {
	unlock := l.locks.lock(m.key)
	defer unlock()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	partOf := l.applySetID(l.state.kindOf(unit), unit)
	if m.partOf != "" {
		partOf = m.partOf // taken over from another shard and not applied since (loop_shard.go)
	}
	for attempt := 0; ; attempt++ {
		live, err := l.cfg.Applier.get(wctx, m.gvk(), m.key)
		if apierrors.IsNotFound(err) {
			l.state.forget(unit, m.key)
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("%s: delete: %w", m.key, err)
		}
		if got := live.GetLabels()[LabelApplySetPartOf]; got != partOf {
			return false, notOwned{fmt.Errorf("%s: not deleted: it does not carry the %s label of %s %s (it has %q); tether leaves it alone",
				m.key, LabelApplySetPartOf, l.state.kindOf(unit), unit, got)}
		}
		err = l.cfg.Applier.Delete(wctx, m.gvk(), m.key, live.GetUID(), live.GetResourceVersion())
		if apierrors.IsConflict(err) && attempt < 3 {
			continue // changed since the check (a status update): check again
		}
		if err != nil {
			return false, err
		}
		l.state.forget(unit, m.key)
		return true, nil
	}
}
