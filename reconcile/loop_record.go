package reconcile

import (
	"context"
	"fmt"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// applySetID is the id of a unit's parent in this loop's inventory namespace.
func (l *Loop) applySetID(kind, unit string) string {
	return applySetID(parentName(kind, unit), l.cfg.Inventory.namespace)
}

// saveRecords writes the inventory record of every unit this pass changed,
// and deletes the record of units that left Git once their members are gone.
func (l *Loop) saveRecords(ctx context.Context, p *pass) (bool, error) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	parallel(p.dirtyUnits(), func(name string) {
		st, ok := l.state.unit(name)
		if !ok {
			return
		}
		members := l.state.memberList(name)
		var err error
		if _, rendered := p.rendered(name); !rendered && len(members) == 0 {
			if err = l.cfg.Inventory.Delete(wctx, st.kind, name); err == nil {
				l.state.dropUnit(name)
			}
		} else {
			err = l.cfg.Inventory.Save(wctx, recordOf(st, members))
		}
		if err != nil {
			p.fail(name)
			l.emit(Event{Type: EventSyncFailed, Time: time.Now(), Revision: p.snap.Revision, Unit: name, Message: err.Error()})
		}
	})
	return false, nil
}

// recordOf turns a unit's state into its inventory record.
func recordOf(st unitState, members []*member) *record {
	rec := &record{Unit: st.name, Kind: st.kind, Revision: st.revision, Hash: st.hash}
	for _, m := range members {
		rec.Objects = append(rec.Objects, memberRecord{
			Group: m.key.Group, Version: m.version, Kind: m.key.Kind, Namespace: m.key.Namespace, Name: m.key.Name,
			Hash: m.hash, Revision: m.revision, Fields: m.owned,
		})
	}
	return rec
}

// loadRecords reads the inventory into state and watches every kind it
// names, so a restarted daemon continues where the last one stopped: unchanged
// units are not re-applied, and drift made while it was down is found on the
// first check. It retries until the API server answers or ctx ends.
func (l *Loop) loadRecords(ctx context.Context) error {
	var records []*record
	for attempt := 1; ; attempt++ {
		var err error
		if records, err = l.cfg.Inventory.Load(ctx); err == nil {
			break
		}
		l.cfg.Log.Error("inventory read failed", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(min(time.Second<<min(attempt, 5), 30*time.Second)):
		}
	}
	for _, rec := range records {
		if err := l.restoreUnit(rec); err != nil {
			l.cfg.Log.Error("inventory record unreadable", "model", rec.Unit, "err", err)
		}
	}
	l.cfg.Log.Info("inventory loaded", "models", len(records), "objects", l.state.managedCount())
	return nil
}

// restoreUnit puts one record's unit and members into state.
func (l *Loop) restoreUnit(rec *record) error {
	l.state.update(rec.Unit, rec.Kind, func(s *unitState) { s.hash, s.revision = rec.Hash, rec.Revision })
	for _, o := range rec.Objects {
		if _, err := parseFields(&metav1.FieldsV1{Raw: o.Fields}); err != nil {
			return err
		}
		m := &member{unit: rec.Unit, key: o.key(), version: o.Version, hash: o.Hash, revision: o.Revision}
		m.setOwned(o.Fields)
		l.state.put(rec.Kind, m)
		gvr, err := l.cfg.Applier.resourceFor(m.gvk())
		if err != nil {
			return fmt.Errorf("%s: %w", m.key, err)
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
