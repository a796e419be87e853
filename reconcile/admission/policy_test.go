package admission_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"

	"github.com/tether-ml/tether/reconcile/admission"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestPolicyGolden writes the policy and binding of each case to
// testdata/<case>.golden.yaml; go test -update rewrites them.
func TestPolicyGolden(t *testing.T) {
	tests := []struct {
		name string
		opts admission.Options
	}{
		{"deny", admission.Options{ServiceAccounts: []string{"tether-system/tether"}}},
		{"warn-exempt", admission.Options{
			ServiceAccounts: []string{"tether-system/tether", "tether-system/tether-gpu"}, Mode: admission.ModeWarn,
			ExemptUsers: []string{"alice@example.com", "ci-bot"}, ExemptGroups: []string{"tether:break-glass"},
			Resources: []string{"configmaps", "networking.k8s.io/ingresses", "apps/deployments", "policy/poddisruptionbudgets"},
		}},
		{"audit", admission.Options{ServiceAccounts: []string{"ml/tether"}, Mode: admission.ModeAudit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy, binding, err := admission.Policy(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := admission.Write(&got, policy, binding); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./reconcile/admission -update to write it)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("policy differs from %s (-want +got):\n%s", golden, diff)
			}
			roundTrip(t, got.Bytes(), policy, binding)
		})
	}
}

// roundTrip decodes the written stream strictly and compares it with the objects.
func roundTrip(t *testing.T, stream []byte, policy *admissionregistrationv1.ValidatingAdmissionPolicy, binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	t.Helper()
	docs := strings.Split(strings.TrimPrefix(string(stream), "---\n"), "---\n")
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2", len(docs))
	}
	var p admissionregistrationv1.ValidatingAdmissionPolicy
	var b admissionregistrationv1.ValidatingAdmissionPolicyBinding
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &p); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*policy, p); diff != "" {
		t.Errorf("policy does not survive YAML (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(*binding, b); diff != "" {
		t.Errorf("binding does not survive YAML (-want +got):\n%s", diff)
	}
}

// TestPolicyActions: each mode is one validation action of the binding.
func TestPolicyActions(t *testing.T) {
	tests := []struct {
		mode string
		want admissionregistrationv1.ValidationAction
	}{
		{"", admissionregistrationv1.Deny},
		{admission.ModeDeny, admissionregistrationv1.Deny},
		{admission.ModeWarn, admissionregistrationv1.Warn},
		{admission.ModeAudit, admissionregistrationv1.Audit},
	}
	for _, tt := range tests {
		_, binding, err := admission.Policy(admission.Options{ServiceAccounts: []string{"a/b"}, Mode: tt.mode})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]admissionregistrationv1.ValidationAction{tt.want}, binding.Spec.ValidationActions); diff != "" {
			t.Errorf("mode %q (-want +got):\n%s", tt.mode, diff)
		}
		if binding.Spec.PolicyName != admission.Name || binding.Name != admission.Name {
			t.Errorf("binding %s binds %s, want both %s", binding.Name, binding.Spec.PolicyName, admission.Name)
		}
	}
}

func TestPolicyErrors(t *testing.T) {
	sa := []string{"tether-system/tether"}
	tests := []struct {
		name string
		opts admission.Options
		want string
	}{
		{"no service account", admission.Options{}, "service account: at least one is required"},
		{"service account without namespace", admission.Options{ServiceAccounts: []string{"tether"}}, `service account "tether": expected NAMESPACE/NAME`},
		{"service account with two slashes", admission.Options{ServiceAccounts: []string{"a/b/c"}}, `service account "a/b/c": expected NAMESPACE/NAME`},
		{"bad namespace", admission.Options{ServiceAccounts: []string{"Tether/tether"}}, `service account "Tether/tether": "Tether" is not a valid namespace`},
		{"bad name", admission.Options{ServiceAccounts: []string{"ns/"}}, `service account "ns/": "" is not a valid ServiceAccount name`},
		{"bad mode", admission.Options{ServiceAccounts: sa, Mode: "block"}, `mode "block": expected deny, warn or audit`},
		{"empty user", admission.Options{ServiceAccounts: sa, ExemptUsers: []string{" "}}, `exempt user " ": expected a name`},
		{"empty group", admission.Options{ServiceAccounts: sa, ExemptGroups: []string{""}}, `exempt group "": expected a name`},
		{"subresource", admission.Options{ServiceAccounts: sa, Resources: []string{"deployments/scale"}}, `resource "deployments/scale": expected GROUP/RESOURCE`},
		{"core group as v1", admission.Options{ServiceAccounts: sa, Resources: []string{"v1/configmaps"}}, `resource "v1/configmaps": expected GROUP/RESOURCE`},
		{"three parts", admission.Options{ServiceAccounts: sa, Resources: []string{"apps/v1/deployments"}}, `resource "apps/v1/deployments": expected GROUP/RESOURCE`},
		{"wildcard", admission.Options{ServiceAccounts: sa, Resources: []string{"*"}}, `resource "*": "*" is not a resource name`},
		{"empty resource", admission.Options{ServiceAccounts: sa, Resources: []string{"example.com/"}}, `resource "example.com/": "" is not a resource name`},
		{"bad group", admission.Options{ServiceAccounts: sa, Resources: []string{"Example.com/widgets"}}, `resource "Example.com/widgets": "Example.com" is not an API group`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := admission.Policy(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
