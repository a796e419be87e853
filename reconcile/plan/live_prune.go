package plan

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tether-ml/tether/reconcile"
)

// prunes are the objects the inventory records that the head no longer
// renders, per unit, as the daemon would prune them: all members of a unit
// that left Git, the stale members of one that stays (its old training runs
// kept), nothing of an invalid or suspended unit, and only what still exists
// and carries its unit's part-of label. It also returns how many would be
// deleted and how many objects the inventory manages.
func (l *live) prunes(ctx context.Context) (map[string][]Object, int, int) {
	out := map[string][]Object{}
	deletions, managed := 0, 0
	for _, r := range l.records {
		managed += len(r.Members)
		h := l.units[r.Unit]
		if h != nil && (h.Err != nil || h.Suspend) {
			continue
		}
		partOf := l.c.Inventory.PartOf(r.Kind, r.Unit)
		for _, m := range r.Members {
			if l.headKeys[m.Key] {
				continue
			}
			o := l.prune(ctx, m, partOf, h != nil)
			if o == nil {
				continue
			}
			if o.Action == ActionDelete {
				deletions++
			}
			out[r.Unit] = append(out[r.Unit], *o)
		}
	}
	return out, deletions, managed
}

// prune plans one recorded member the head no longer renders; nil when it
// is gone already.
func (l *live) prune(ctx context.Context, m reconcile.RecordedMember, partOf string, unitStays bool) *Object {
	gvk := m.GVK()
	o := &Object{APIVersion: gvk.GroupVersion().String(), Kind: m.Key.Kind, Namespace: m.Key.Namespace, Name: m.Key.Name}
	current, err := l.c.Applier.Get(ctx, gvk, m.Key)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		o.Action, o.Error = ActionDelete, "read before pruning: "+err.Error()
	case unitStays && isRun(m.Key):
		o.Action = ActionRetain
		o.Notes = append(o.Notes, retainNote)
	case current.GetLabels()[reconcile.LabelApplySetPartOf] != partOf:
		o.Action = ActionUnchanged
		o.Notes = append(o.Notes, "not pruned: it lacks its unit's "+reconcile.LabelApplySetPartOf+" label, so tether does not own it")
	default:
		o.Action, o.Diff = ActionDelete, objectDiff(liveLabel(m.Key), noFile, normalize(current), nil)
	}
	return o
}
