package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// installPolicy applies what `tether args...` prints with kubectl, as the
// admin, and waits until the API server has type-checked it. The policy and
// binding are removed after the test.
func installPolicy(t *testing.T, ns string, args []string) {
	t.Helper()
	out := runTether(t, args...)
	if _, stderr, err := kubectl(t, out, "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, stderr)
	}
	t.Cleanup(func() {
		_, _, _ = kubectl(t, "", "delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", "tether-protect", "--ignore-not-found")
	})
	cs := clientset(t)
	eventually(t, 10*time.Second, "policy type-checked", func() (bool, error) {
		p, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(context.Background(), "tether-protect", metav1.GetOptions{})
		return err == nil && p.Status.TypeChecking != nil && p.Status.ObservedGeneration == p.Generation, err
	})
	b, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Get(context.Background(), "tether-protect", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(args, " "), "--mode deny") {
		waitEnforced(t, ns, b.Spec.ValidationActions)
	}
}

// assertTypeCheckingCatches is the control of the type check: the same policy
// with a misspelt field, unbound (so it enforces nothing), gets a warning for
// each of tether's kinds.
func assertTypeCheckingCatches(t *testing.T, cs kubernetes.Interface, p *admissionregistrationv1.ValidatingAdmissionPolicy) {
	t.Helper()
	ctx := context.Background()
	typo := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "tether-protect-typo-e2e"}, Spec: *p.Spec.DeepCopy()}
	typo.Spec.Validations[0].Expression = "variables.byTether || oldObject.metadata.nameTypo == ''"
	if _, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, typo, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, typo.Name, metav1.DeleteOptions{})
	eventually(t, 10*time.Second, "type check of a misspelt field", func() (bool, error) {
		got, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(ctx, typo.Name, metav1.GetOptions{})
		if err != nil || got.Status.TypeChecking == nil {
			return false, err
		}
		w := got.Status.TypeChecking.ExpressionWarnings
		return len(w) == 1 && strings.Count(w[0].Warning, "undefined field 'nameTypo'") == 5, fmt.Errorf("warnings %+v", w)
	})
}

// waitEnforced waits until the API server refuses an admin's change of a
// protected object: policies and bindings reach admission asynchronously.
func waitEnforced(t *testing.T, ns string, actions []admissionregistrationv1.ValidationAction) {
	t.Helper()
	cs := clientset(t)
	body := `{"metadata":{"annotations":{"e2e/probe":"` + time.Now().Format(time.RFC3339Nano) + `"}}}`
	eventually(t, 10*time.Second, "policy enforced ("+string(actions[0])+")", func() (bool, error) {
		_, err := cs.AppsV1().Deployments(ns).Patch(context.Background(), "guarded", types.MergePatchType, []byte(body), metav1.PatchOptions{})
		return apierrors.IsForbidden(err), err
	})
}

// warningRecorder keeps the warning headers a client receives.
type warningRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warningRecorder) contains(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}
