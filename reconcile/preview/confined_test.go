package preview

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/render"
)

func object(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
	o.SetNamespace(namespace)
	o.SetName(name)
	return o
}

// TestConfined: whatever render returns, a preview writes only into
// namespaces its namespaces unit creates, named <ns>-pr-<id>.
func TestConfined(t *testing.T) {
	nsUnit := render.Unit{Name: render.PreviewNamespacesUnit, Objects: []*unstructured.Unstructured{
		object("v1", "Namespace", "", "ml-pr-7"), object("v1", "ResourceQuota", "ml-pr-7", "tether-preview")}}
	model := func(objs ...*unstructured.Unstructured) render.Unit { return render.Unit{Name: "m", Objects: objs} }
	tests := []struct {
		name  string
		units []render.Unit
		ok    bool
	}{
		{"in the preview", []render.Unit{nsUnit, model(object("apps/v1", "Deployment", "ml-pr-7", "m"))}, true},
		{"the tracked branch's namespace", []render.Unit{nsUnit, model(object("apps/v1", "Deployment", "ml", "m"))}, false},
		{"cluster-scoped", []render.Unit{nsUnit, model(object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "m"))}, false},
		{"a namespace from a model", []render.Unit{nsUnit, model(object("v1", "Namespace", "", "ml-pr-7"))}, false},
		{"another preview's namespace", []render.Unit{{Name: render.PreviewNamespacesUnit, Objects: []*unstructured.Unstructured{
			object("v1", "Namespace", "", "ml-pr-8")}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			namespaces, err := confined(&render.Result{Units: tt.units}, "7")
			if tt.ok {
				if err != nil || !cmp.Equal(namespaces, []string{"ml-pr-7"}) {
					t.Errorf("confined = %v, %v; want [ml-pr-7]", namespaces, err)
				}
			} else if !errors.Is(err, errNotConfined) {
				t.Errorf("confined = %v, %v; want %v", namespaces, err, errNotConfined)
			}
		})
	}
}
