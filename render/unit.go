package render

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Unit is one model (or bundle) rendered from one revision: the smallest thing
// tether applies, prunes and reports on. A unit with Err set has no Objects and
// must leave its live objects untouched.
type Unit struct {
	Name string // model name, or a bundle folder's base name
	Kind string // KindModelUnit or KindBundleUnit
	// Namespace is the model's namespace; for a bundle, the default namespace.
	// Objects of namespaced kinds that render could not recognise (custom
	// resources without their CRD in the unit) may have none; apply them here.
	Namespace string
	Source    string // folder in the repository, e.g. models/fraud-detector
	Drift     string // revert or report; empty means the daemon's default
	Suspend   bool
	Objects   []*unstructured.Unstructured
	Hash      string   // content hash over Objects
	Warnings  []string // problems that do not stop the unit, e.g. unpinned images
	Err       error    // Errors when the spec is invalid
	// Reused: the unit's inputs did not change since Incremental last
	// rendered it; it is that render, without its Objects.
	Reused bool
}

// Unit kinds.
const (
	KindModelUnit  = "model"  // models/<name>: model.yaml, optionally with a kustomize overlay
	KindBundleUnit = "bundle" // a plain kustomization listed under bundles in tether.yaml
)

// kindOrder sorts rendered objects so output is deterministic and dependencies
// come first; unlisted kinds follow, by kind.
var kindOrder = map[string]int{
	"Namespace": 0, "CustomResourceDefinition": 1, "ResourceQuota": 2, "LimitRange": 3,
	"ServiceAccount": 4, "ClusterRole": 5, "ClusterRoleBinding": 6, "Role": 7, "RoleBinding": 8,
	"ConfigMap": 9, "Secret": 10, "PersistentVolumeClaim": 11,
	"Service": 12, "Deployment": 13, "HorizontalPodAutoscaler": 14, "CronJob": 15, "Job": 16,
}

// SortObjects orders objects by kind (dependencies first), namespace and name.
func SortObjects(objs []*unstructured.Unstructured) {
	rank := func(k string) int {
		if r, ok := kindOrder[k]; ok {
			return r
		}
		return len(kindOrder)
	}
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if ra, rb := rank(a.GetKind()), rank(b.GetKind()); ra != rb {
			return ra < rb
		}
		if a.GetKind() != b.GetKind() {
			return a.GetKind() < b.GetKind()
		}
		if ga, gb := a.GroupVersionKind().Group, b.GroupVersionKind().Group; ga != gb {
			return ga < gb
		}
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

// renderModel renders a validated model into its objects.
func renderModel(m *Model, source string) ([]*unstructured.Unstructured, error) {
	var typed []runtime.Object
	if t := m.Spec.Training; t != nil {
		if t.Schedule != "" {
			typed = append(typed, trainingCronJob(m, source))
		} else {
			typed = append(typed, trainingJob(m, source))
		}
	}
	if s := m.Spec.Serving; s != nil {
		typed = append(typed, deployment(m, source), service(m, source))
		if s.Autoscaling != nil {
			typed = append(typed, autoscaler(m, source))
		}
	}
	objs := make([]*unstructured.Unstructured, 0, len(typed))
	for _, o := range typed {
		u, err := toUnstructured(o)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", m.Metadata.Name, err)
		}
		objs = append(objs, u)
	}
	SortObjects(objs)
	return objs, nil
}

// toUnstructured converts a typed object and drops what the typed structs add
// but a manifest should not carry (status, null creationTimestamps).
func toUnstructured(o runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	dropNulls(m)
	return &unstructured.Unstructured{Object: m}, nil
}

// dropNulls removes null values and the empty maps they leave behind.
func dropNulls(m map[string]any) {
	for k, v := range m {
		switch val := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropNulls(val)
			if len(val) == 0 {
				delete(m, k)
			}
		case []any:
			for _, item := range val {
				if im, ok := item.(map[string]any); ok {
					dropNulls(im)
				}
			}
		}
	}
}
