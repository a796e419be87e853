package plan

import (
	"context"
	"errors"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
)

// Cluster is what Live reads the cluster with. Live needs get and list on
// the kinds tether manages and patch (a dry-run patch is still a patch).
type Cluster struct {
	Applier   *reconcile.Applier
	Inventory *reconcile.Inventory
}

// Live plans the head against the live cluster: each object of the head is
// server-side dry-run applied as the daemon would apply it and diffed against
// its live state; prune candidates and the mass-deletion guard come from the
// inventory. A dry-run the API server refuses is a blocker, never "no
// change". Nothing is written. The error is for a cluster that cannot be read.
func Live(ctx context.Context, base, head Revision, opts Options, c Cluster) (*Plan, error) {
	p := Offline(base, head, opts)
	p.Cluster = true
	if head.Err != nil {
		return p, nil
	}
	records, err := c.Inventory.Records(ctx)
	if err != nil {
		return nil, err
	}
	l := newLive(c, head, records)
	if err := l.placeAll(); err != nil {
		return nil, err
	}
	prunes, deletions, managed := l.prunes(ctx)
	p.Guard = decideGuard(opts.MaxPrune, deletions, managed, len(head.Result.Units) == 0, head.Result.Settings.AllowMassPrune)
	p.Units = l.withRecordedUnits(p.Units, opts.Models)
	for i := range p.Units {
		u := &p.Units[i]
		if h := l.headUnit(u.Name); h != nil && h.Err == nil && !h.Suspend {
			u.Objects = l.applyAll(ctx, h, u.Objects)
		} else {
			u.Objects = nil
		}
		u.Objects = append(u.Objects, prunes[u.Name]...)
		if u.Status != StatusInvalid && u.Status != StatusSuspended && u.Status != StatusAdded && u.Status != StatusRemoved {
			u.Status = liveStatus(u.Objects)
		}
	}
	p.finish()
	return p, nil
}

// live is the state of one Live plan.
type live struct {
	c          Cluster
	head       Revision
	records    []reconcile.RecordedUnit
	members    map[reconcile.Key]reconcile.RecordedMember
	units      map[string]*render.Unit
	placed     map[*unstructured.Unstructured]*unstructured.Unstructured // head objects in their namespaces
	headKeys   map[reconcile.Key]bool
	newKinds   map[schema.GroupKind]bool // kinds whose CRD the head creates
	namespaces map[string]bool           // namespace → exists live
	newSpaces  map[string]bool           // namespaces the head creates
}

func newLive(c Cluster, head Revision, records []reconcile.RecordedUnit) *live {
	l := &live{c: c, head: head, records: records, members: map[reconcile.Key]reconcile.RecordedMember{},
		units: map[string]*render.Unit{}, placed: map[*unstructured.Unstructured]*unstructured.Unstructured{},
		headKeys: map[reconcile.Key]bool{}, newKinds: map[schema.GroupKind]bool{}, namespaces: map[string]bool{}, newSpaces: map[string]bool{}}
	for _, r := range records {
		for _, m := range r.Members {
			l.members[m.Key] = m
		}
	}
	for i := range head.Result.Units {
		u := &head.Result.Units[i]
		l.units[u.Name] = u
		for _, obj := range objectsOf(u) {
			switch obj.GetKind() {
			case "Namespace":
				l.newSpaces[obj.GetName()] = true
			case "CustomResourceDefinition":
				group, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
				kind, _, _ := unstructured.NestedString(obj.Object, "spec", "names", "kind")
				l.newKinds[schema.GroupKind{Group: group, Kind: kind}] = true
			}
		}
	}
	return l
}

func (l *live) headUnit(name string) *render.Unit { return l.units[name] }

// placeAll puts every object of a valid head unit that names no namespace
// into its unit's, when its kind is namespaced, as the daemon's apply does.
func (l *live) placeAll() error {
	for _, u := range l.units {
		for _, obj := range objectsOf(u) {
			placed := obj
			if obj.GetNamespace() == "" && !l.newKinds[obj.GroupVersionKind().GroupKind()] {
				namespaced, err := l.c.Applier.Namespaced(obj.GroupVersionKind())
				if err != nil && !meta.IsNoMatchError(err) {
					return fmt.Errorf("%s: %w", reconcile.KeyOf(obj), err)
				}
				if namespaced {
					placed = obj.DeepCopy()
					placed.SetNamespace(u.Namespace)
				}
			}
			l.placed[obj] = placed
			l.headKeys[reconcile.KeyOf(placed)] = true
		}
	}
	return nil
}

// applyAll dry-run applies the objects of a valid head unit in the daemon's
// apply order (namespaces and CRDs, cluster RBAC, the rest) and keeps what
// the offline plan found beyond them (kept training runs are re-read from
// the inventory with the prunes).
func (l *live) applyAll(ctx context.Context, h *render.Unit, offline []Object) []Object {
	objs := append([]*unstructured.Unstructured(nil), h.Objects...)
	sort.SliceStable(objs, func(i, j int) bool {
		return reconcile.ApplyStage(objs[i].GetKind()) < reconcile.ApplyStage(objs[j].GetKind())
	})
	before := map[reconcile.Key]Object{}
	for _, o := range offline {
		before[o.Key()] = o
	}
	out := make([]Object, 0, len(objs))
	for _, obj := range objs {
		out = append(out, l.apply(ctx, h, l.placed[obj], before[reconcile.KeyOf(obj)]))
	}
	return out
}

// withRecordedUnits adds the units the inventory records but neither
// revision renders (left Git before the base): they are pruned too.
func (l *live) withRecordedUnits(units []Unit, models []string) []Unit {
	known := map[string]bool{}
	for _, u := range units {
		known[u.Name] = true
	}
	for _, r := range l.records {
		if known[r.Unit] || l.units[r.Unit] != nil || (len(models) > 0 && !contains(models, r.Unit)) {
			continue
		}
		units = append(units, Unit{Name: r.Unit, Kind: r.Kind, Status: StatusRemoved,
			Notes: []string{"in the cluster's inventory, in neither revision: its objects are pruned"}})
	}
	return units
}

func liveStatus(objs []Object) Status {
	for i := range objs {
		if objs[i].changes() || objs[i].blocked() {
			return StatusChanged
		}
	}
	return StatusUnchanged
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dryRunError turns a refused dry-run into a blocker or an error of o.
func dryRunError(o *Object, err error) {
	if apierrors.IsInvalid(err) {
		o.Blockers = append(o.Blockers, "the API server refuses it: "+apiMessage(err))
		return
	}
	o.Error = err.Error()
}

// apiMessage is the API server's own message of a status error.
func apiMessage(err error) string {
	var status *apierrors.StatusError
	if errors.As(err, &status) {
		return status.ErrStatus.Message
	}
	return err.Error()
}
