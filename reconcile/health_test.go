package reconcile

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tether-ml/tether/render"
)

// unitState reads a unit's state from /status's document.
func (f *fixture) unitState(name string) Health {
	for _, u := range f.loop.Status().Units {
		if u.Name == name {
			return u.State
		}
	}
	return ""
}

// TestHealthFollowsTheCluster: health is rolled up from the watch as objects
// change, without another pass. A serving model becomes Ready once its
// Deployment is available; a training Job that fails makes its unit Failed; a
// suspended model is Suspended and an invalid one Invalid.
func TestHealthFollowsTheCluster(t *testing.T) {
	f := newFixture(t)
	// The Job's pod can never be scheduled, so its deadline fails it.
	failing := fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: stuck, namespace: %s}
spec:
  activeDeadlineSeconds: 2
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {tether.dev/no-such-node: "true"}
      containers: [{name: train, image: registry.example.com/stuck:v1}]
`, f.ns)
	res := f.models(map[string]string{
		"serving":   servingSpec("serving", imgA, 1),
		"suspended": strings.Replace(servingSpec("suspended", imgA, 1), "  serving:", "  suspend: true\n  serving:", 1),
	})
	res.Units = append(res.Units, bundleUnit(t, "stuck", failing),
		render.Unit{Name: "broken", Kind: "model", Err: fmt.Errorf("models/broken/model.yaml:3: spec.image: required")})
	f.pass("rev1", res)

	if got := f.unitState("broken"); got != HealthInvalid {
		t.Errorf("invalid model: state %q, want %q", got, HealthInvalid)
	}
	if got := f.unitState("suspended"); got != HealthSuspended {
		t.Errorf("suspended model: state %q, want %q", got, HealthSuspended)
	}
	// No further pass runs: only the watch can move these two.
	eventually(t, 30*time.Second, "serving model Ready", func() bool { return f.unitState("serving") == HealthReady })
	eventually(t, 30*time.Second, "bundle with a failed Job Failed", func() bool { return f.unitState("stuck") == HealthFailed })
}
