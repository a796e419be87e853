package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// This file is the read-only view of the inventory and the dry-run apply that
// `tether plan --cluster` uses (issue 13). Nothing here writes to the cluster.

// RecordedUnit is one unit's inventory record as the daemon last saved it.
type RecordedUnit struct {
	Unit     string // model or bundle name
	Kind     string // model or bundle
	Revision string // revision of the last completely applied render
	Hash     string // content hash of that render
	Members  []RecordedMember
	Lineage  Lineage // what that render traces back to (records written before lineage have none)
}

// RecordedMember is one object a unit's record lists.
type RecordedMember struct {
	Key      Key
	Version  string
	Hash     string // content hash of what was applied, without the revision annotation
	Revision string // revision that produced that content
	// Fields are tether's managedFields entry (FieldsV1 JSON) right after the
	// apply: what DetectDrift measures drift against.
	Fields    json.RawMessage
	AppliedAt time.Time // when tether applied this content
}

// GVK is the member's group, version and kind.
func (m RecordedMember) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: m.Key.Group, Version: m.Version, Kind: m.Key.Kind}
}

// NewInventoryReader reads the records of instance in namespace and never
// writes: without its hash key (a cluster tether never ran in) it reads no
// records. tether plan --cluster uses it.
func NewInventoryReader(applier *Applier, namespace, instance string) *Inventory {
	return &Inventory{applier: applier, namespace: namespace, instance: instance, readOnly: true}
}

// Records reads this instance's unit records in the inventory's namespace.
func (inv *Inventory) Records(ctx context.Context) ([]RecordedUnit, error) {
	loaded, err := inv.Load(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RecordedUnit, 0, len(loaded.Records))
	for _, rec := range loaded.Records {
		u := RecordedUnit{Unit: rec.Unit, Kind: rec.Kind, Revision: rec.Revision, Hash: rec.Hash}
		if rec.Lineage != nil {
			u.Lineage = *rec.Lineage
		}
		for _, o := range rec.Objects {
			u.Members = append(u.Members, RecordedMember{Key: o.key(), Version: o.Version, Hash: o.Hash, Revision: o.Revision, Fields: o.Fields, AppliedAt: o.AppliedAt})
		}
		out = append(out, u)
	}
	return out, nil
}

// PartOf is the applyset.kubernetes.io/part-of label value of the members of
// the unit named unit of the given kind (model or bundle).
func (inv *Inventory) PartOf(kind, unit string) string { return inv.applySetID(kind, unit) }

// ContentHash is the content hash h as the records store it (keyed).
func (inv *Inventory) ContentHash(h string) string { return inv.keyed(h) }

// Instances lists the instances whose records are in namespace.
func Instances(ctx context.Context, applier *Applier, namespace string) ([]string, error) {
	list, err := applier.clientset.CoreV1().ConfigMaps(namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelInventory})
	if err != nil {
		return nil, fmt.Errorf("inventory: list ConfigMaps in %s: %w", namespace, err)
	}
	set := map[string]bool{}
	for _, cm := range list.Items {
		if i := cm.Labels[LabelInstance]; i != "" {
			set[i] = true
		}
	}
	return sortedKeys(set), nil
}

// Stamp returns obj as the daemon sends it in a server-side apply: annotated
// with the revision that produced its content, labelled part-of its unit's
// ApplySet, a Secret's stringData folded into data.
func Stamp(obj *unstructured.Unstructured, revision, partOf string) (*unstructured.Unstructured, error) {
	d, err := compact(obj)
	if err != nil {
		return nil, err
	}
	body, err := (&draft{desired: &d}).stamp(revision, partOf)
	if err != nil {
		return nil, err
	}
	return decode(body)
}

// ApplyStage is the stage in which the daemon applies objects of kind:
// namespaces and CRDs (0), cluster-wide RBAC (1), everything else (2).
func ApplyStage(kind string) int { return stageOf(kind) }

// DryRunApply server-side applies obj as the daemon would (field manager
// tether, conflicts forced) with dryRun=All, and returns the object the API
// server would store. Nothing is persisted; the caller needs the patch verb.
func (a *Applier) DryRunApply(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	key := KeyOf(obj)
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: dry-run apply: %w", key, err)
	}
	ri, _, err := a.resource(obj.GroupVersionKind(), key.Namespace)
	if err != nil {
		return nil, fmt.Errorf("%s: dry-run apply: %w", key, err)
	}
	force := true
	out, err := ri.Patch(ctx, key.Name, types.ApplyPatchType, data, metav1.PatchOptions{
		FieldManager: FieldManager, Force: &force, DryRun: []string{metav1.DryRunAll},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: dry-run apply: %w", key, err)
	}
	return out, nil
}

// Get reads an object's live state; a missing object is an error for which
// apierrors.IsNotFound holds.
func (a *Applier) Get(ctx context.Context, gvk schema.GroupVersionKind, key Key) (*unstructured.Unstructured, error) {
	obj, err := a.get(ctx, gvk, key)
	if err != nil {
		return nil, fmt.Errorf("%s: get: %w", key, err)
	}
	return obj, nil
}

// Namespaced reports whether objects of kind gvk live in namespaces.
func (a *Applier) Namespaced(gvk schema.GroupVersionKind) (bool, error) {
	return a.namespaced(gvk)
}
