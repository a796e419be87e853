package reconcile

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// applySetID is the id of a unit's parent in this loop's inventory.
func (l *Loop) applySetID(kind, unit string) string { return l.cfg.Inventory.applySetID(kind, unit) }

// saveRecords writes the inventory record of every unit this pass changed,
// and deletes the record of units that left Git once their members are gone.
// A record that could not be written is written again at the next pass,
// whether or not the head moved.
func (l *Loop) saveRecords(ctx context.Context, p *pass) (bool, error) {
	p.saved = true
	for name := range l.unsaved {
		p.touch(name)
	}
	for _, name := range l.lost.take() {
		p.touch(name)
	}
	var mu sync.Mutex
	parallel(p.dirtyUnits(), func(name string) {
		// writeTimeout bounds each record's write, not the pass's: with
		// 10,000 units the last ones started after a shared deadline (issue 15).
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
		err := l.saveRecord(wctx, p, name)
		cancel()
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			delete(l.unsaved, name)
			return
		}
		l.unsaved[name] = true
		p.fail(name)
		l.emit(Event{Type: EventSyncFailed, Time: time.Now(), Revision: p.snap.Revision, Unit: name, Message: err.Error()})
	})
	return false, nil
}

func (l *Loop) saveRecord(ctx context.Context, p *pass, name string) error {
	unlock := l.locks.lock(recordKey(name))
	defer unlock()
	st, ok := l.state.unit(name)
	if !ok {
		return nil
	}
	members := l.state.memberList(name)
	if _, rendered := p.rendered(name); !rendered && len(members) == 0 {
		version := "" // a compare-and-set is a leader's; Save does not track versions
		if l.cfg.Leader != nil {
			version = st.recordVersion
		}
		err := l.cfg.Inventory.Delete(ctx, st.kind, name, version)
		if err == nil {
			l.state.dropUnit(name)
		}
		return l.fenced(err)
	}
	if l.cfg.Leader != nil {
		return l.writeRecord(ctx, name) // a compare-and-set: another leader's write stops this one
	}
	uid, err := l.cfg.Inventory.Save(ctx, recordOf(st, members))
	if err == nil {
		l.state.update(name, st.kind, func(s *unitState) { s.recordUID = uid })
	}
	return err
}

// recordOf turns a unit's state into its inventory record.
func recordOf(st unitState, members []*member) *record {
	rec := &record{Unit: st.name, Kind: st.kind, Revision: st.revision, Hash: st.hash, Lineage: recordedLineage(st.lineage)}
	for _, m := range members {
		rec.Objects = append(rec.Objects, memberRecord{
			Group: m.key.Group, Version: m.version, Kind: m.key.Kind, Namespace: m.key.Namespace, Name: m.key.Name,
			Hash: m.hash, Revision: m.revision, Fields: m.owned, Adopted: m.adopted, PartOf: m.partOf, AppliedAt: m.appliedAt,
		})
	}
	return rec
}

// loadRecords reads this instance's inventory into state and watches every
// kind it names, so a restarted daemon continues where the last one stopped:
// unchanged units are not re-applied, and drift made while it was down is
// found on the first check. Records of other instances and records that
// cannot be read are reported and left alone. It retries until the API
// server answers or ctx ends.
func (l *Loop) loadRecords(ctx context.Context) error {
	var loaded Loaded
	for attempt := 1; ; attempt++ {
		var err error
		if loaded, err = l.cfg.Inventory.Load(ctx); err == nil {
			break
		}
		l.cfg.Log.Error("inventory read failed", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(min(time.Second<<min(attempt, 5), 30*time.Second)):
		}
	}
	invalid := loaded.Invalid
	for _, rec := range loaded.Records {
		if err := l.restoreUnit(rec); err != nil {
			invalid = append(invalid, err)
		}
	}
	for _, err := range invalid {
		l.cfg.Log.Error("inventory record unreadable: left alone", "err", err)
	}
	if len(loaded.Foreign) > 0 {
		l.cfg.Log.Info("inventory records of other instances ignored", "instance", l.cfg.Inventory.instance, "records", loaded.Foreign)
	}
	l.shardsLoaded(loaded.Shards)
	l.status.setRecords(loaded.Foreign, invalid)
	l.cfg.Metrics.records(len(loaded.Foreign), len(invalid))
	l.cfg.Log.Info("inventory loaded", "instance", l.cfg.Inventory.instance, "models", len(loaded.Records), "objects", l.state.managedCount())
	l.ready.Store(true)
	return nil
}

// restoreUnit puts one record's unit and members into state. A record with a
// member that cannot be read is refused whole.
func (l *Loop) restoreUnit(rec *record) error {
	var members []*member
	for _, o := range rec.Objects {
		if _, err := parseFields(&metav1.FieldsV1{Raw: o.Fields}); err != nil {
			return fmt.Errorf("record of %s %s: %s: %w", rec.Kind, rec.Unit, o.key(), err)
		}
		m := &member{unit: rec.Unit, key: o.key(), version: o.Version, hash: o.Hash, revision: o.Revision, adopted: o.Adopted,
			partOf: o.PartOf, appliedAt: o.AppliedAt}
		m.setOwned(o.Fields)
		members = append(members, m)
	}
	l.state.update(rec.Unit, rec.Kind, func(s *unitState) {
		s.hash, s.revision, s.recordVersion, s.recordUID = rec.Hash, rec.Revision, rec.version, rec.uid
		if rec.Lineage != nil {
			s.lineage = *rec.Lineage
		}
	})
	for _, m := range members {
		l.state.put(rec.Kind, m)
		gvr, err := l.cfg.Applier.resourceFor(m.gvk())
		if err != nil {
			l.cfg.Log.Error("inventory member's kind unknown: not watched", "object", m.key.String(), "err", err)
			continue
		}
		l.watcher.watch(gvr, m.key.GroupKind())
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
