package test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tether-ml/tether/reconcile/admission"
)

// TestProtection: with protection.enabled the chart renders exactly the
// ValidatingAdmissionPolicy and binding `tether admission-policy` prints for
// the release's ServiceAccount and the values as flags, so the two cannot
// diverge; without it, neither.
func TestProtection(t *testing.T) {
	tests := []struct {
		name    string
		values  map[string]any // protection values; serviceAccount under "sa"
		account string         // the ServiceAccount's name the policy names
		opts    admission.Options
	}{
		{"defaults", map[string]any{}, "tether", admission.Options{}},
		{"warn with exempt users and groups", map[string]any{"mode": "warn", "exemptUsers": []any{"alice@example.com", "o'brien"},
			"exemptGroups": []any{"tether:break-glass", "ops\\on-call"}}, "tether",
			admission.Options{Mode: "warn", ExemptUsers: []string{"alice@example.com", "o'brien"}, ExemptGroups: []string{"tether:break-glass", "ops\\on-call"}}},
		{"audit with more resources", map[string]any{"mode": "audit", "resources": []any{"networking.k8s.io/ingresses", "configmaps",
			"apps/deployments", "policy/poddisruptionbudgets", "configmaps", "networking.k8s.io/ingressclasses", "secrets"}}, "tether",
			admission.Options{Mode: "audit", Resources: []string{"networking.k8s.io/ingresses", "configmaps", "apps/deployments",
				"policy/poddisruptionbudgets", "configmaps", "networking.k8s.io/ingressclasses", "secrets"}}},
		{"a named service account", map[string]any{"sa": "deployer", "exemptGroups": []any{"üter"}}, "deployer",
			admission.Options{ExemptGroups: []string{"üter"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			protection := map[string]any{"enabled": true}
			values := map[string]any{"config": map[string]any{"repo": "https://git.example.com/ml/models.git"}, "protection": protection}
			for k, v := range tt.values {
				if k == "sa" {
					values["serviceAccount"] = map[string]any{"name": v}
					continue
				}
				protection[k] = v
			}
			objs := objects(t, mustRender(t, values).Manifest)
			tt.opts.ServiceAccounts = []string{releaseNamespace + "/" + tt.account}
			policy, binding, err := admission.Policy(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []runtime.Object{policy, binding} {
				w := asUnstructured(t, want)
				got := find(t, objs, w.GetKind(), admission.Name)
				if diff := cmp.Diff(w.Object, got.Object); diff != "" {
					t.Errorf("%s differs from tether admission-policy's (-cli +chart):\n%s", w.GetKind(), diff)
				}
			}
		})
	}
	for _, o := range objects(t, mustRender(t, map[string]any{"config": map[string]any{"repo": "x"}}).Manifest) {
		if o.GetName() == admission.Name {
			t.Errorf("%s rendered without protection.enabled", o.GetKind())
		}
	}
}

// asUnstructured converts a typed object as admission.Write does.
func asUnstructured(t *testing.T, o runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	delete(m, "status")
	return &unstructured.Unstructured{Object: m}
}
