package reconcile

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tether-ml/tether/render"
)

// This file moves models between the shards of one deployment (issue 15).
// The shard a model leaves stops managing it without pruning anything and
// leaves its record in place; the shard it joins finds that record (labelled
// with the unit and the group), takes its members over, applies them with its
// own ApplySet label (objects it does not render keep the other label, noted
// in its record), saves its own record and only then deletes the other one,
// with UID and resourceVersion preconditions. No object is deleted and
// created again; the ownership rule holds for every delete: an object is
// deleted only by the unit whose record lists it, carrying the label that
// record notes for it.

// shardMoves is what a loop remembers between passes about models moving
// between shards. Owned by the goroutine running cycle.
type shardMoves struct {
	lookFor map[string]bool            // units another shard may have a record of
	recheck map[string]bool            // units whose taken-over record changed before it could be deleted
	pending map[string][]siblingRecord // taken-over records, deleted once this unit's record is saved
}

// shardsLoaded notes what Load found: units of which another shard has a record,
// and records of this instance to write again with the labels shards need.
func (l *Loop) shardsLoaded(found shardRecords) {
	l.moves = shardMoves{lookFor: found.Siblings, recheck: map[string]bool{}, pending: map[string][]siblingRecord{}}
	if l.moves.lookFor == nil {
		l.moves.lookFor = map[string]bool{}
	}
	for _, unit := range found.Unlabelled {
		l.unsaved[unit] = true
	}
}

// keepUndecided adds, for every unit this instance manages whose shard the
// revision does not say (its model.yaml cannot be read), an invalid unit: it
// keeps its objects as after any failed render, and is neither pruned nor
// handed over.
func (l *Loop) keepUndecided(res *render.Result) {
	for _, name := range res.Undecided {
		if st, ok := l.state.unit(name); ok {
			err := fmt.Errorf("models/%s/model.yaml cannot be read far enough to tell its shard (%s)", name, render.LabelShard)
			res.Units = append(res.Units, render.Unit{Name: name, Kind: st.kind, Source: render.ModelsDir + "/" + name, Err: err})
		}
	}
}

// moveShards hands over the units the revision gives to other shards and
// takes over the units that come to this one.
func (l *Loop) moveShards(ctx context.Context, p *pass, res *render.Result) {
	if l.moves.pending == nil {
		l.shardsLoaded(shardRecords{})
	}
	for _, name := range res.Elsewhere {
		if _, managed := l.state.unit(name); managed {
			l.state.dropUnit(name) // its record stays for the shard that takes it over
			delete(l.moves.pending, name)
			l.cfg.Log.Info("model handed to another shard", "model", name, "revision", p.snap.Revision)
		}
	}
	next := map[string]bool{}
	for i := range p.res.Units {
		u := &p.res.Units[i]
		_, managed := l.state.unit(u.Name)
		if u.Err == nil && (l.moves.recheck[u.Name] || (!managed && l.moves.lookFor[u.Name])) {
			if err := l.takeOver(ctx, p, u); err != nil {
				l.unitFailed(p, u, err)
				next[u.Name] = true // and a recheck stays one: tried again at the next pass
				continue
			}
			delete(l.moves.recheck, u.Name)
		} else if l.moves.lookFor[u.Name] && !managed {
			next[u.Name] = true // invalid now: look when it renders
		}
	}
	for _, name := range append(res.Elsewhere, res.Undecided...) {
		next[name] = true
	}
	l.moves.lookFor = next
}

// takeOver makes the members of the records other shards keep of u members
// of u. Those u renders get an empty hash, so the apply step writes them
// with this unit's ApplySet label, as the same field manager (the other
// shard sees no drift in that). Those it does not render (a past training
// run, an object waiting for pruning) keep the other record's label, which
// this unit's record notes as theirs (member.partOf): this unit may delete
// them later. A record taken over again after it changed (recheck: its shard
// still wrote it) has all its rendered members written again. The records
// are deleted once this unit's record is saved (dropSiblings).
func (l *Loop) takeOver(ctx context.Context, p *pass, u *render.Unit) error {
	kind := unitKind(u)
	found, err := l.cfg.Inventory.siblingRecords(ctx, kind, u.Name)
	if err != nil || len(found) == 0 {
		return err
	}
	want := desiredKeys(p, u)
	for _, s := range found {
		for _, o := range s.rec.Objects {
			if m, _, _ := l.state.lookup(o.key()); m != nil && m.unit != u.Name {
				continue // another unit of this instance manages it
			} else if m != nil && !want[o.key()] {
				continue
			}
			m := &member{unit: u.Name, key: o.key(), version: o.Version, revision: o.Revision, adopted: o.Adopted}
			if !want[o.key()] {
				m.hash, m.partOf = o.Hash, notedLabel(o, s.partOf, l.applySetID(kind, u.Name))
			}
			m.setOwned(o.Fields)
			l.state.put(kind, m)
			if gvr, err := l.cfg.Applier.resourceFor(m.gvk()); err == nil {
				l.watcher.watch(gvr, m.key.GroupKind())
			}
			p.handedOver(u.Name, fmt.Sprintf("%s from shard instance %s", o.key(), s.rec.Instance))
		}
	}
	l.state.update(u.Name, kind, func(st *unitState) { st.hash = "" })
	p.touch(u.Name)
	l.moves.pending[u.Name] = found
	return nil
}

// dropSiblings deletes the records this instance took units over from, once
// the units' own records are saved. A record its shard changed meanwhile is
// read and taken over again at the next pass.
func (l *Loop) dropSiblings(ctx context.Context, p *pass) (bool, error) {
	for unit, found := range l.moves.pending {
		if p.hasFailed(unit) || l.unsaved[unit] {
			continue
		}
		var failed []siblingRecord
		for _, s := range found {
			err := l.cfg.Inventory.dropSibling(ctx, s)
			switch {
			case apierrors.IsConflict(err):
				l.moves.recheck[unit] = true
				p.fail(unit)
			case err != nil:
				failed = append(failed, s)
				p.fail(unit)
				l.emit(Event{Type: EventSyncFailed, Time: time.Now(), Revision: p.snap.Revision, Unit: unit, Message: err.Error()})
			}
		}
		if len(failed) == 0 {
			delete(l.moves.pending, unit)
		} else {
			l.moves.pending[unit] = failed
		}
	}
	return false, nil
}

// notedLabel is the ApplySet label a member of another shard's record
// carries: that record's own, or the one the record noted (its shard took the
// member over in turn); "" when that is the label of own, this unit's.
func notedLabel(o memberRecord, recordLabel, own string) string {
	label := recordLabel
	if o.PartOf != "" {
		label = o.PartOf
	}
	if label == own {
		return ""
	}
	return label
}
