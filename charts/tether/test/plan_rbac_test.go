package test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// readmePlanRoles reads the two ClusterRoles README.md documents for tether
// plan --cluster (e2e/plan_rbac_test.go proves tether plan works with them).
func readmePlanRoles(t *testing.T) []rbacv1.ClusterRole {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- tether plan RBAC: e2e/plan_rbac_test.go applies these rules -->\n```yaml\n"
	_, block, ok := strings.Cut(string(data), marker)
	if !ok {
		t.Fatal("README.md lost the RBAC block of tether plan --cluster")
	}
	block, _, _ = strings.Cut(block, "```")
	var roles []rbacv1.ClusterRole
	for _, doc := range strings.Split(block, "\n---\n") {
		var r rbacv1.ClusterRole
		if err := yaml.UnmarshalStrict([]byte(doc), &r); err != nil {
			t.Fatalf("README.md's RBAC block: %v", err)
		}
		roles = append(roles, r)
	}
	return roles
}

// renderedRole converts the rendered ClusterRole name.
func renderedRole(t *testing.T, manifest, name string) rbacv1.ClusterRole {
	t.Helper()
	var r rbacv1.ClusterRole
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(find(t, objects(t, manifest), "ClusterRole", name).Object, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func planValues(plan map[string]any, config map[string]any) map[string]any {
	config["repo"] = "https://git.example.com/ml/models.git"
	plan["create"] = true
	if _, ok := plan["serviceAccount"]; !ok {
		plan["serviceAccount"] = map[string]any{"name": "ci"}
	}
	return map[string]any{"config": config, "rbac": map[string]any{"plan": plan}}
}

// TestPlanRBACMatchesReadme: rbac.plan renders the README's two ClusterRoles,
// rule for rule, named as there.
func TestPlanRBACMatchesReadme(t *testing.T) {
	manifest := mustRender(t, planValues(map[string]any{}, map[string]any{})).Manifest
	for _, want := range readmePlanRoles(t) {
		got := renderedRole(t, manifest, want.Name)
		if diff := cmp.Diff(want.Rules, got.Rules); diff != "" {
			t.Errorf("ClusterRole %s: README's rules (-) and the chart's (+) differ:\n%s", want.Name, diff)
		}
	}
}

// TestPlanRBAC: the bindings (a RoleBinding per listed namespace and the
// inventory's, or one ClusterRoleBinding), the hash key named when the
// instance is known, extraRules, and what the chart refuses.
func TestPlanRBAC(t *testing.T) {
	subject := []any{map[string]any{"kind": "ServiceAccount", "name": "ci", "namespace": releaseNamespace}}
	tests := []struct {
		name   string
		values map[string]any
		want   []string // kind/namespace/name of the plan's objects
	}{
		{"cluster-wide", planValues(map[string]any{}, map[string]any{}),
			[]string{"ClusterRole/tether-plan", "ClusterRole/tether-plan-namespaces", "ClusterRoleBinding/tether-plan", "ClusterRoleBinding/tether-plan-namespaces"}},
		{"in namespaces", planValues(map[string]any{"namespaces": []any{"ml", "tether-system"}}, map[string]any{}),
			[]string{"ClusterRole/tether-plan", "ClusterRole/tether-plan-namespaces", "ClusterRoleBinding/tether-plan-namespaces",
				"RoleBinding/ml/tether-plan", "RoleBinding/tether-system/tether-plan"}},
		{"in namespaces, the inventory elsewhere", planValues(map[string]any{"namespaces": []any{"ml"}}, map[string]any{"inventoryNamespace": "records"}),
			[]string{"ClusterRole/tether-plan", "ClusterRole/tether-plan-namespaces", "ClusterRoleBinding/tether-plan-namespaces",
				"RoleBinding/ml/tether-plan", "RoleBinding/records/tether-plan"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, o := range objects(t, mustRender(t, tt.values).Manifest) {
				if !strings.HasPrefix(o.GetName(), "tether-plan") {
					continue
				}
				got = append(got, kinds([]*unstructured.Unstructured{o})...)
				if strings.HasSuffix(o.GetKind(), "Binding") {
					if diff := cmp.Diff(subject, o.Object["subjects"]); diff != "" {
						t.Errorf("%s subjects (-want +got):\n%s", o.GetName(), diff)
					}
				}
			}
			slices.Sort(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
	extra := map[string]any{"apiGroups": []any{""}, "resources": []any{"persistentvolumeclaims"}, "verbs": []any{"get", "list", "patch", "create"}}
	role := renderedRole(t, mustRender(t, planValues(map[string]any{"extraRules": []any{extra}}, map[string]any{"instance": "models-1"})).Manifest, "tether-plan")
	if len(role.Rules) != 3 || !cmp.Equal(role.Rules[1].ResourceNames, []string{"tether-models-1-hash-key"}) || role.Rules[2].Resources[0] != "persistentvolumeclaims" {
		t.Errorf("rules with an instance and extraRules: %+v", role.Rules)
	}
	if _, err := render(t, planValues(map[string]any{"serviceAccount": map[string]any{}}, map[string]any{})); err == nil ||
		!strings.Contains(err.Error(), "rbac.plan.create needs rbac.plan.serviceAccount.name") {
		t.Errorf("no service account: %v", err)
	}
	wildcard := map[string]any{"apiGroups": []any{""}, "resources": []any{"*"}, "verbs": []any{"get"}}
	if _, err := render(t, planValues(map[string]any{"extraRules": []any{wildcard}}, map[string]any{})); err == nil ||
		!strings.Contains(err.Error(), "/rbac/plan/extraRules/0/resources/0") {
		t.Errorf("a wildcard in extraRules: %v", err)
	}
}
