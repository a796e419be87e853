package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// AnnotationLeaderTerm on a record is the leader term of the replica that
// wrote it last.
const AnnotationLeaderTerm = "tether.dev/leader-term"

// ErrFenced stops a replica that may no longer write: it is not the leader,
// its lease may have run out (it was paused), or a record changed under it
// (another leader wrote it).
var ErrFenced = errors.New("fenced: another replica leads")

// Leader tells the loop whether it may write now and in which term;
// Leadership implements it. Without one (a single replica), nothing is fenced.
type Leader interface {
	Term() (term int64, ok bool)
}

// Write stores rec with a compare-and-set: over the resourceVersion the
// record was last read or written at (created when it has none), carrying
// the writer's leader term. A conflict means another replica wrote it:
// ErrFenced. It returns the new resourceVersion and the parent's UID.
func (inv *Inventory) Write(ctx context.Context, rec *record, term int64) (string, types.UID, error) {
	inv.sign(rec)
	cm, err := parentConfigMap(inv.namespace, rec)
	if err != nil {
		return "", "", err
	}
	cm.Annotations[AnnotationLeaderTerm] = strconv.FormatInt(term, 10)
	cms := inv.applier.clientset.CoreV1().ConfigMaps(inv.namespace)
	if rec.version == "" {
		cm, err = cms.Create(ctx, cm, metav1.CreateOptions{FieldManager: FieldManager})
	} else {
		cm.ResourceVersion = rec.version
		cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: FieldManager})
	}
	name := parentName(inv.instance, rec.Kind, rec.Unit)
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		return "", "", fmt.Errorf("ConfigMap/%s/%s: %w (%v)", inv.namespace, name, ErrFenced, err)
	}
	if err != nil {
		return "", "", fmt.Errorf("ConfigMap/%s/%s: write: %w", inv.namespace, name, err)
	}
	return cm.ResourceVersion, cm.UID, nil
}

// fence makes sure this replica may write the objects of unit: with a
// leader, it must hold the lease and its record must still be the one it
// last wrote; the record is rewritten with a compare-and-set carrying the
// term, so a replica that lost the lead finds out before its first write.
// Within one pass a unit is fenced once.
func (l *Loop) fence(ctx context.Context, p *pass, unit string) error {
	if l.cfg.Leader == nil || (p != nil && p.isFenced(unit)) {
		return nil
	}
	unlock := l.locks.lock(recordKey(unit))
	defer unlock()
	if err := l.writeRecord(ctx, unit); err != nil {
		return err
	}
	if p != nil {
		p.setFenced(unit)
	}
	return nil
}

// writeRecord writes unit's record with a compare-and-set, as its state
// says it; the caller holds the record's lock.
func (l *Loop) writeRecord(ctx context.Context, unit string) error {
	term, ok := l.cfg.Leader.Term()
	if !ok {
		return l.fenced(fmt.Errorf("%w: the lease was not renewed in time", ErrFenced))
	}
	st, found := l.state.unit(unit)
	if !found {
		return nil
	}
	rec := recordOf(st, l.state.memberList(unit))
	rec.version = st.recordVersion
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout) // WithoutCancel drops the caller's deadline too
	defer cancel()
	version, uid, err := l.cfg.Inventory.Write(wctx, rec, term)
	if err != nil {
		return l.fenced(err)
	}
	l.state.update(unit, st.kind, func(s *unitState) { s.recordVersion, s.recordUID = version, uid })
	return nil
}

// fenced stops the loop when err says another replica leads.
func (l *Loop) fenced(err error) error {
	if errors.Is(err, ErrFenced) && l.stop != nil {
		l.stop(err)
	}
	return err
}

// recordKey is the lock key of a unit's record.
func recordKey(unit string) Key { return Key{Kind: "tether-record", Name: unit} }
