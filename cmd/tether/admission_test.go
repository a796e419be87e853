package main

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/reconcile/admission"
)

// TestAdmissionPolicyCommand: the command prints what the package builds
// from its flags and environment variables.
func TestAdmissionPolicyCommand(t *testing.T) {
	t.Setenv("TETHER_MODE", "warn")
	code, stdout, stderr := run(t, "admission-policy", "--service-account", "tether-system/tether",
		"--exempt-user", "alice", "--exempt-user", "bob", "--exempt-group", "oncall", "--resource", "configmaps")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	policy, binding, err := admission.Policy(admission.Options{
		ServiceAccounts: []string{"tether-system/tether"}, Mode: admission.ModeWarn,
		ExemptUsers: []string{"alice", "bob"}, ExemptGroups: []string{"oncall"}, Resources: []string{"configmaps"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := admission.Write(&want, policy, binding); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}
