package plan

import (
	"bytes"
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
)

// apply dry-run applies one placed head object of unit h as the daemon
// would, and plans it from the live object and the API server's answer.
// offline is what the offline plan said about it (its notes carry over).
func (l *live) apply(ctx context.Context, h *render.Unit, obj *unstructured.Unstructured, offline Object) Object {
	key := reconcile.KeyOf(obj)
	o := newObject(obj)
	o.Notes = offline.Notes
	if note := l.notYet(ctx, obj); note != "" {
		o.Action, o.Diff = ActionCreate, objectDiff(noFile, headLabel(key), nil, obj)
		o.Notes = append(o.Notes, note)
		return o
	}
	current, err := l.c.Applier.Get(ctx, obj.GroupVersionKind(), key)
	if err != nil && !apierrors.IsNotFound(err) {
		o.Action, o.Diff, o.Error = offline.Action, offline.Diff, err.Error()
		return o
	}
	if err != nil {
		current = nil
	}
	stamped, err := reconcile.Stamp(obj, l.revision(key, obj), l.c.Inventory.PartOf(unitKind(h), h.Name))
	var merged *unstructured.Unstructured
	if err == nil {
		merged, err = l.c.Applier.DryRunApply(ctx, stamped)
	}
	switch {
	case err != nil:
		o.Action, o.Diff = ActionUpdate, offline.Diff
		if current == nil {
			o.Action, o.Diff = ActionCreate, objectDiff(noFile, headLabel(key), nil, obj)
		}
		dryRunError(&o, err)
	case current == nil:
		o.Action, o.Diff = ActionCreate, objectDiff(noFile, headLabel(key), nil, obj)
		if offline.Action == ActionUnchanged || offline.Action == ActionUpdate {
			o.Notes = append(o.Notes, "missing in the cluster: merging creates it again")
			o.DriftUndone = offline.Action == ActionUnchanged
		}
	default:
		l.compareLive(&o, offline, stamped, current, merged)
	}
	return o
}

// compareLive plans an object that exists from its live state and what the
// dry-run would make of it.
func (l *live) compareLive(o *Object, offline Object, stamped, current, merged *unstructured.Unstructured) {
	key := reconcile.KeyOf(stamped)
	before, after := normalize(current), normalize(merged)
	if manifest(before) == manifest(after) {
		o.Action = ActionUnchanged
		return
	}
	o.Action, o.Diff = ActionUpdate, objectDiff(liveLabel(key), mergedLabel(key), before, after)
	o.Drift = l.drift(key, stamped, current)
	o.DriftUndone = offline.Action == ActionUnchanged || len(o.Drift) > 0
}

// notYet explains why obj cannot be dry-run: it lives in a namespace, or is of
// a kind, that the same change creates first. "" when it can.
func (l *live) notYet(ctx context.Context, obj *unstructured.Unstructured) string {
	if gk := obj.GroupVersionKind().GroupKind(); l.newKinds[gk] {
		if _, err := l.c.Applier.Namespaced(obj.GroupVersionKind()); err != nil {
			return fmt.Sprintf("a %s, whose CustomResourceDefinition this change creates: not dry-run", gk)
		}
	}
	ns := obj.GetNamespace()
	if ns == "" || !l.newSpaces[ns] || l.namespaceExists(ctx, ns) {
		return ""
	}
	return fmt.Sprintf("in namespace %s, which this change creates: not dry-run (the namespace does not exist yet)", ns)
}

var namespaceGVK = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}

// namespaceExists reports whether namespace ns exists live; an error reading
// it counts as existing, so the dry-run reports the real problem.
func (l *live) namespaceExists(ctx context.Context, ns string) bool {
	exists, known := l.namespaces[ns]
	if !known {
		_, err := l.c.Applier.Get(ctx, namespaceGVK, reconcile.Key{Kind: "Namespace", Name: ns})
		exists = !apierrors.IsNotFound(err)
		l.namespaces[ns] = exists
	}
	return exists
}

// revision is what the daemon stamps on obj: the revision recorded for the
// same content (then it would not even write it), else the head's.
func (l *live) revision(key reconcile.Key, obj *unstructured.Unstructured) string {
	if m, ok := l.members[key]; ok && m.Hash == l.c.Inventory.ContentHash(render.ObjectsHash(obj)) {
		return m.Revision
	}
	return l.head.Commit
}

// drift is the live drift of an object, measured as the daemon does: the
// fields tether owned after its last apply (the inventory records them) that
// another manager has taken since. Secret values come back masked.
func (l *live) drift(key reconcile.Key, desired, current *unstructured.Unstructured) []FieldChange {
	m, ok := l.members[key]
	if !ok || len(m.Fields) == 0 {
		return nil
	}
	owned := &fieldpath.Set{}
	if err := owned.FromJSON(bytes.NewReader(m.Fields)); err != nil {
		return nil
	}
	d, err := reconcile.DetectDrift(desired, owned, current)
	if err != nil || d == nil {
		return nil
	}
	out := make([]FieldChange, 0, len(d.Changes))
	for _, c := range d.Changes {
		out = append(out, FieldChange{Path: c.Path, Git: c.Desired, Live: c.Live, Removed: c.Removed, Manager: d.Manager})
	}
	return out
}

// normalize drops what the API server keeps about an object rather than
// what it is: status, managedFields, versions, uid, timestamps.
func normalize(obj *unstructured.Unstructured) *unstructured.Unstructured {
	out := obj.DeepCopy()
	unstructured.RemoveNestedField(out.Object, "status")
	for _, f := range []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"} {
		unstructured.RemoveNestedField(out.Object, "metadata", f)
	}
	return out
}

func liveLabel(k reconcile.Key) string   { return "live/" + k.String() }
func mergedLabel(k reconcile.Key) string { return "merged/" + k.String() }
