package reconcile

import (
	"context"
	"sort"
	"time"

	"github.com/tether-ml/tether/render"
)

// This file enforces tether.yaml's sync windows (issue 14). A unit that a
// window blocks is held: the apply step does not write its new content and
// the prune step deletes nothing of it, so its objects stay at the revision
// in its record, and drift is still reverted against that revision unless a
// blocking window says revertDrift: false. tether.yaml itself is never held:
// each revision's windows decide at once, so a commit that removes a window
// releases what it held. A timer wakes the loop at the next window edge, and
// the next pass compares each unit with what was applied, not with the last
// revision seen, so what waited is applied at once.

// holdBack is the step after render: it decides which units this pass may
// sync, emits SyncHeld once per unit and held content, and arms the timer.
func (l *Loop) holdBack(ctx context.Context, p *pass) (bool, error) {
	now := l.holds.clock()
	due, windowed := l.holds.begin(p.res.Settings)
	v := verdicts{settings: p.res.Settings, at: now, memo: map[string]verdict{}}
	next := map[string]*hold{}
	var edge time.Time
	for _, name := range l.syncCandidates(p) {
		h := l.holdOf(ctx, p, &v, name)
		if h == nil {
			continue
		}
		next[name], p.held[name] = h, true
		edge = earliest(edge, h.opens, h.lookBy)
	}
	for _, name := range l.state.unitNames() {
		if w := v.of(name); !w.Revert {
			edge = earliest(edge, w.revertOpens)
		}
		l.cfg.Metrics.syncBlocked(name, p.held[name])
	}
	for name := range next {
		l.cfg.Metrics.syncBlocked(name, true) // a unit never applied is not in state yet
	}
	for _, name := range l.holds.replace(next, edge, l.Wake) {
		h := next[name]
		l.emit(Event{Type: EventSyncHeld, Time: now, Revision: h.revision, Unit: name, Message: h.message()})
	}
	if due && windowed {
		l.watcher.resync() // drift only reported while a window said revertDrift: false is reverted now
	}
	return false, nil
}

// holdOf returns the hold of a unit the windows block now, nil when it may
// sync: the windows allow it, or they allow a sync by hand and one was
// requested after the hold began.
func (l *Loop) holdOf(ctx context.Context, p *pass, v *verdicts, name string) *hold {
	w := v.of(name)
	if w.Sync {
		return nil
	}
	h := &hold{hash: p.unitHash(name), revision: p.snap.Revision, since: v.at, windows: w.Blocking,
		opens: w.opens, lookBy: w.lookBy, manual: w.ManualSync}
	if old, ok := l.holds.held(name); ok && old.hash == h.hash {
		h.revision, h.since = old.revision, old.since
	}
	if h.manual {
		sync, reason := l.syncRequested(ctx, p, name, h.since)
		if sync {
			l.cfg.Log.Info("sync requested by hand: applying the held revision", "model", name, "revision", p.snap.Revision)
			return nil
		}
		h.request = reason
	}
	return h
}

// restoreHeld gives the members of a held unit whose content the held
// revision does not change the object they were applied as, so that their
// drift is reverted after a restart too (members learn it from the first
// render). Members whose content it changes keep what they have: after a
// restart, their drift is seen again once the window opens.
func (l *Loop) restoreHeld(p *pass, u *render.Unit) {
	partOf := l.applySetID(unitKind(u), u.Name)
	objs := p.objects[u.Name]
	for i := range objs {
		unlock := l.locks.lock(objs[i].key)
		m, _, _ := l.state.lookup(objs[i].key)
		if m != nil && m.unit == u.Name && m.body == nil && m.hash == objs[i].hash && !objs[i].place {
			if err := l.restoreBody(u, &draft{desired: &objs[i]}, m, partOf); err != nil {
				l.cfg.Log.Error("held object not restored: its drift is not reverted until the window opens", "object", m.key.String(), "err", err)
			}
		}
		unlock()
	}
}

// syncCandidates lists the units this pass would sync: valid units, not
// suspended, whose content differs from their record, and (when pruning)
// units that left Git with objects still to delete.
func (l *Loop) syncCandidates(p *pass) []string {
	var out []string
	for name, u := range p.desired {
		if st, ok := l.state.unit(name); !u.Suspend && (!ok || st.hash != u.Hash) {
			out = append(out, name)
		}
	}
	if l.cfg.Prune {
		for _, name := range l.state.unitNames() {
			if _, rendered := p.rendered(name); !rendered && len(l.state.memberList(name)) > 0 {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// windowDue reports whether a pass must go on although the head did not
// move: a window edge passed, or a sync was requested by hand for a held
// unit whose windows allow it.
func (l *Loop) windowDue(ctx context.Context, p *pass) bool {
	due, manual := l.holds.gate()
	if due || !manual {
		return due
	}
	for name, since := range l.holds.manualHolds() {
		ok, reason := l.syncRequested(ctx, p, name, since)
		if ok {
			return true
		}
		l.holds.noteRequest(name, reason)
	}
	return false
}

// verdict is what a unit's windows say now, and when that changes.
type verdict struct {
	render.Verdict
	opens, lookBy time.Time // blocked: when syncs open, or when to look again
	revertOpens   time.Time // reverts off: when they are on again
}

// verdicts evaluates windows once per set of windows in a pass: a thousand
// models under models: ["*"] cost one search for the next opening.
type verdicts struct {
	settings render.Settings
	at       time.Time
	memo     map[string]verdict
}

func (v *verdicts) of(unit string) verdict {
	w := v.settings.WindowsFor(unit)
	if got, ok := v.memo[w.Key()]; ok {
		return got
	}
	out := verdict{Verdict: w.Verdict(v.at)}
	if !out.Sync {
		at, found := w.NextSync(v.at)
		if found {
			out.opens = at
		} else {
			out.lookBy = at
		}
	}
	if !out.Revert {
		out.revertOpens, _ = w.NextRevert(v.at)
	}
	v.memo[w.Key()] = out
	return out
}

// earliest returns the earliest non-zero time of edge and ts.
func earliest(edge time.Time, ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() && (edge.IsZero() || t.Before(edge)) {
			edge = t
		}
	}
	return edge
}
