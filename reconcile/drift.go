package reconcile

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Drift is a difference between what tether applied and what is live, with
// who made it. Deleted means the object is gone.
type Drift struct {
	Object  Key
	Deleted bool
	Changes []FieldChange
	Manager string    // the field manager that made the change, when known
	Time    time.Time // when that manager last wrote the object
}

// FieldChange is one field tether set whose live value differs.
type FieldChange struct {
	Path    string // e.g. spec.template.spec.containers[name="serve"].image
	Desired any
	Live    any // nil when the field was removed
	Removed bool
}

// ownedFields returns the fields the named manager owns through Apply on obj.
func ownedFields(obj *unstructured.Unstructured, manager string) (*fieldpath.Set, error) {
	for _, e := range obj.GetManagedFields() {
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			return parseFields(e.FieldsV1)
		}
	}
	return &fieldpath.Set{}, nil
}

func parseFields(f *metav1.FieldsV1) (*fieldpath.Set, error) {
	s := &fieldpath.Set{}
	if f == nil {
		return s, nil
	}
	if err := s.FromJSON(bytes.NewReader(f.Raw)); err != nil {
		return nil, fmt.Errorf("parse managedFields: %w", err)
	}
	return s, nil
}

// DetectDrift compares the fields tether owned right after its apply (owned)
// with what it owns on the live object. The API server takes a field away from
// tether exactly when another actor changes or removes it, so the difference is
// the drift: fields tether never set (HPA replicas, other controllers'
// annotations, defaults) can never show up. It returns nil when nothing drifted.
func DetectDrift(desired *unstructured.Unstructured, owned *fieldpath.Set, live *unstructured.Unstructured) (*Drift, error) {
	liveOwned, err := ownedFields(live, FieldManager)
	if err != nil {
		return nil, err
	}
	lost := owned.Difference(liveOwned).Leaves()
	if lost.Empty() {
		return nil, nil
	}
	d := &Drift{Object: KeyOf(desired)}
	lost.Iterate(func(p fieldpath.Path) {
		want, _ := valueAt(desired.Object, p)
		got, found := valueAt(live.Object, p)
		path := pathString(p)
		if Sensitive(d.Object, path) {
			want, got = Masked, Masked
		}
		d.Changes = append(d.Changes, FieldChange{Path: path, Desired: want, Live: got, Removed: !found})
	})
	sort.Slice(d.Changes, func(i, j int) bool { return d.Changes[i].Path < d.Changes[j].Path })
	d.Manager, d.Time = responsible(live, lost)
	return d, nil
}

// Masked replaces sensitive values in every diff: drift reports say which key
// changed, never what it holds.
const Masked = "<hidden>"

// Sensitive reports whether the value at path of obj must be masked: every
// field of a Secret except its metadata and type (data, stringData and anything
// a future API version adds).
func Sensitive(obj Key, path string) bool {
	if obj.Group != "" || obj.Kind != "Secret" {
		return false
	}
	return path != "type" && !strings.HasPrefix(path, "metadata.")
}

// responsible names the manager that took the lost fields: the one that owns
// them now, or, for removed fields, the newest writer other than tether.
func responsible(live *unstructured.Unstructured, lost *fieldpath.Set) (string, time.Time) {
	var name string
	var when time.Time
	for _, e := range live.GetManagedFields() {
		if e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationApply {
			continue
		}
		set, err := parseFields(e.FieldsV1)
		if err != nil {
			continue
		}
		t := entryTime(e)
		if !set.Intersection(lost).Empty() {
			return e.Manager, t
		}
		if t.After(when) {
			name, when = e.Manager, t
		}
	}
	return name, when
}

func entryTime(e metav1.ManagedFieldsEntry) time.Time {
	if e.Time == nil {
		return time.Time{}
	}
	return e.Time.Time
}

// pathString renders a field path without its leading dot.
func pathString(p fieldpath.Path) string {
	return strings.TrimPrefix(p.String(), ".")
}

// valueAt walks an unstructured object along a managedFields path.
func valueAt(obj map[string]any, p fieldpath.Path) (any, bool) {
	var cur any = obj
	for _, pe := range p {
		next, ok := stepInto(cur, pe)
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

func stepInto(cur any, pe fieldpath.PathElement) (any, bool) {
	switch {
	case pe.FieldName != nil:
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		v, found := m[*pe.FieldName]
		return v, found
	case pe.Key != nil:
		return findListItem(cur, func(item map[string]any) bool {
			for _, f := range *pe.Key {
				if fmt.Sprint(item[f.Name]) != fmt.Sprint(f.Value.Unstructured()) {
					return false
				}
			}
			return true
		})
	case pe.Value != nil:
		list, _ := cur.([]any)
		want := fmt.Sprint((*pe.Value).Unstructured())
		for _, item := range list {
			if fmt.Sprint(item) == want {
				return item, true
			}
		}
	case pe.Index != nil:
		list, _ := cur.([]any)
		if *pe.Index < len(list) {
			return list[*pe.Index], true
		}
	}
	return nil, false
}

func findListItem(cur any, match func(map[string]any) bool) (any, bool) {
	list, _ := cur.([]any)
	for _, item := range list {
		if m, ok := item.(map[string]any); ok && match(m) {
			return m, true
		}
	}
	return nil, false
}
