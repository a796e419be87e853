package plan

import (
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/reconcile"
)

// selectorKinds are the apps/v1 workloads whose spec.selector is immutable.
var selectorKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true}

// immutable lists the changes from old to new that the API server refuses
// for fields it does not let change (Kubernetes' own validation, offline):
// a workload's selector, a Job's template, a Service's clusterIP and the
// types that cannot keep one, a PersistentVolumeClaim's spec.
func immutable(old, new *unstructured.Unstructured) []string {
	k := reconcile.KeyOf(new)
	switch {
	case k.Group == "apps" && selectorKinds[k.Kind]:
		return changedField(old, new, "spec.selector is immutable; rename the object to replace it", "spec", "selector")
	case k.Group == "batch" && k.Kind == "Job":
		out := changedField(old, new, "spec.selector of a Job is immutable", "spec", "selector")
		return append(out, changedField(old, new,
			"spec.template of a Job is immutable; a Job with a new template needs a new name (tether's training Jobs get one from their content hash)",
			"spec", "template")...)
	case k.Group == "" && k.Kind == "Service":
		return serviceConflicts(old, new)
	case k.Group == "" && k.Kind == "PersistentVolumeClaim":
		return claimConflicts(old, new)
	}
	return nil
}

// changedField returns msg when the field at path differs.
func changedField(old, new *unstructured.Unstructured, msg string, path ...string) []string {
	ov, _, _ := unstructured.NestedFieldNoCopy(old.Object, path...)
	nv, _, _ := unstructured.NestedFieldNoCopy(new.Object, path...)
	if reflect.DeepEqual(ov, nv) {
		return nil
	}
	return []string{msg}
}

// serviceConflicts: a clusterIP, once allocated, may not change (None, a
// headless Service, included); a Service that leaves clusterIP empty keeps
// the allocated one. An ExternalName Service may not name a clusterIP.
func serviceConflicts(old, new *unstructured.Unstructured) []string {
	oip, _, _ := unstructured.NestedString(old.Object, "spec", "clusterIP")
	nip, _, _ := unstructured.NestedString(new.Object, "spec", "clusterIP")
	otype, _, _ := unstructured.NestedString(old.Object, "spec", "type")
	ntype, _, _ := unstructured.NestedString(new.Object, "spec", "type")
	var out []string
	switch {
	case nip == "" || nip == oip:
	case oip != "":
		out = append(out, fmt.Sprintf("spec.clusterIP is immutable: %q → %q; delete the Service or keep its clusterIP", oip, nip))
	case otype != "ExternalName" && nip == "None":
		out = append(out, `spec.clusterIP is immutable: the allocated address cannot become "None" (headless); rename the Service to replace it`)
	}
	if ntype == "ExternalName" && nip != "" && nip != "None" {
		out = append(out, fmt.Sprintf("spec.type ExternalName needs no clusterIP, but it is %q", nip))
	}
	return out
}

// claimConflicts: a bound claim's spec is immutable except its requested
// storage, which may only grow.
func claimConflicts(old, new *unstructured.Unstructured) []string {
	oldSpec, _, _ := unstructured.NestedMap(old.Object, "spec")
	newSpec, _, _ := unstructured.NestedMap(new.Object, "spec")
	delete(oldSpec, "resources")
	delete(newSpec, "resources")
	var out []string
	if !reflect.DeepEqual(oldSpec, newSpec) {
		out = append(out, "spec of a PersistentVolumeClaim is immutable except resources.requests")
	}
	if oq, nq := storage(old), storage(new); oq != "" && nq != "" && quantityLess(nq, oq) {
		out = append(out, fmt.Sprintf("spec.resources.requests.storage may only grow: %s → %s", oq, nq))
	}
	return out
}

// quantityLess reports whether quantity a is less than b; false if either
// does not parse (the API server reports that).
func quantityLess(a, b string) bool {
	qa, errA := resource.ParseQuantity(a)
	qb, errB := resource.ParseQuantity(b)
	return errA == nil && errB == nil && qa.Cmp(qb) < 0
}

func storage(obj *unstructured.Unstructured) string {
	s, _, _ := unstructured.NestedString(obj.Object, "spec", "resources", "requests", "storage")
	return s
}

// unpinnedImages lists the containers of a workload whose image is not
// pinned by digest, skipping images the render warnings already name.
func unpinnedImages(obj *unstructured.Unstructured, known []string) []string {
	path, ok := podTemplatePaths[obj.GetKind()]
	if !ok {
		return nil
	}
	var out []string
	for _, list := range []string{"initContainers", "containers"} {
		items, _, _ := unstructured.NestedSlice(obj.Object, append(append([]string{}, path...), list)...)
		for _, item := range items {
			c, _ := item.(map[string]any)
			image, _ := c["image"].(string)
			if image == "" || strings.Contains(image, "@sha256:") || mentioned(known, image) {
				continue
			}
			out = append(out, fmt.Sprintf("%s: container %v: image %q is not pinned by digest; the tag may move", reconcile.KeyOf(obj), c["name"], image))
		}
	}
	return out
}

func mentioned(lines []string, image string) bool {
	for _, l := range lines {
		if strings.Contains(l, `"`+image+`"`) {
			return true
		}
	}
	return false
}
