package plan

import (
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/tether-ml/tether/reconcile"
)

// maskedChanged stands for a Secret value that the change replaces: the
// diff says which key changes, never what it holds.
const maskedChanged = reconcile.Masked + " (changed)"

// lastApplied is kubectl's client-side apply annotation: on a Secret it
// holds the whole Secret, values included.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// objectDiff is the unified diff of two versions of one object (either may
// be nil: created or deleted), Secret values hidden.
func objectDiff(from, to string, old, new *unstructured.Unstructured) string {
	o, n := masked(old, new)
	return unifiedDiff(from, to, manifest(o), manifest(n))
}

// manifest is an object's YAML with keys sorted; "" for nil.
func manifest(obj *unstructured.Unstructured) string {
	if obj == nil {
		return ""
	}
	data, err := yaml.Marshal(obj.Object)
	if err != nil {
		return fmt.Sprintf("# cannot encode %s: %v\n", reconcile.KeyOf(obj), err)
	}
	return string(data)
}

// masked returns copies of two versions of an object (either may be nil)
// safe to show: for a Secret, every value reconcile.Sensitive names is
// replaced by <hidden>, or <hidden> (changed) on the side where it differs;
// map keys (the names of a Secret's entries) stay visible. Other kinds are
// returned as they are.
func masked(old, new *unstructured.Unstructured) (*unstructured.Unstructured, *unstructured.Unstructured) {
	ref := new
	if ref == nil {
		ref = old
	}
	if ref == nil || ref.GroupVersionKind().Group != "" || ref.GetKind() != "Secret" {
		return old, new
	}
	key := reconcile.KeyOf(ref)
	o, n := maskSecret(key, old), maskSecret(key, new)
	for field := range fieldsOf(old, new) {
		if !sensitive(key, field) {
			continue
		}
		var ov, nv any
		if old != nil {
			ov = old.Object[field]
		}
		if new != nil {
			nv = new.Object[field]
		}
		markChanged(n, field, ov, nv)
	}
	return o, n
}

// maskSecret hides a Secret's values: every top-level field Sensitive names
// (data, stringData, ...) and kubectl's last-applied annotation.
func maskSecret(key reconcile.Key, obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	out := obj.DeepCopy()
	for field, v := range out.Object {
		if !sensitive(key, field) {
			continue
		}
		if m, ok := v.(map[string]any); ok {
			hidden := make(map[string]any, len(m))
			for k := range m {
				hidden[k] = reconcile.Masked
			}
			out.Object[field] = hidden
		} else {
			out.Object[field] = reconcile.Masked
		}
	}
	if ann := out.GetAnnotations(); ann[lastApplied] != "" {
		ann[lastApplied] = reconcile.Masked
		out.SetAnnotations(ann)
	}
	return out
}

// sensitive applies reconcile.Sensitive to a top-level field of an object:
// apiVersion and kind name the object, metadata is judged by its fields.
func sensitive(key reconcile.Key, field string) bool {
	switch field {
	case "apiVersion", "kind":
		return false
	case "metadata":
		return reconcile.Sensitive(key, "metadata.name")
	}
	return reconcile.Sensitive(key, field)
}

// markChanged marks, in the masked new version, the values of field that
// differ from the old version.
func markChanged(n *unstructured.Unstructured, field string, ov, nv any) {
	if n == nil || reflect.DeepEqual(ov, nv) {
		return
	}
	om, oIsMap := ov.(map[string]any)
	nm, nIsMap := nv.(map[string]any)
	if !oIsMap || !nIsMap {
		if ov != nil {
			n.Object[field] = maskedOrMap(n.Object[field])
		}
		return
	}
	hidden := n.Object[field].(map[string]any)
	for k, v := range nm {
		if old, found := om[k]; found && !reflect.DeepEqual(old, v) {
			hidden[k] = maskedChanged
		}
	}
}

// maskedOrMap marks a whole replaced value as changed; a map keeps its keys.
func maskedOrMap(v any) any {
	if m, ok := v.(map[string]any); ok {
		for k := range m {
			m[k] = maskedChanged
		}
		return m
	}
	return maskedChanged
}

// fieldsOf is the set of top-level fields of either version.
func fieldsOf(objs ...*unstructured.Unstructured) map[string]bool {
	out := map[string]bool{}
	for _, o := range objs {
		if o == nil {
			continue
		}
		for f := range o.Object {
			out[f] = true
		}
	}
	return out
}
