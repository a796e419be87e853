package reconcile

import (
	"context"
	"fmt"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/tether-ml/tether/render"
)

// peer is a second daemon with its own instance name and loop, sharing the
// fixture's namespace (and so its inventory namespace).
func (f *fixture) peer(instance string) *fixture {
	g := &fixture{t: f.t, ctx: f.ctx, ns: f.ns, cs: f.cs, src: &fakeSource{}, maxPrune: f.maxPrune, instance: instance}
	g.start()
	return g
}

// configMap is a ConfigMap manifest in the fixture's namespace.
func (f *fixture) configMap(name string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}\ndata: {k: v}\n", name, f.ns)
}

// modelUnit is a model-kind unit made of manifests, as a model with an
// overlay renders.
func modelUnit(t *testing.T, name string, docs ...string) render.Unit {
	u := bundleUnit(t, name, docs...)
	u.Kind, u.Source = "model", "models/"+name
	return u
}

// result wraps units as a rendered revision.
func result(units ...render.Unit) *render.Result { return &render.Result{Units: units} }

func (f *fixture) uid(obj *unstructured.Unstructured, err error) types.UID {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
	return obj.GetUID()
}

func (f *fixture) getConfigMap(name string) (*corev1.ConfigMap, error) {
	return f.cs.CoreV1().ConfigMaps(f.ns).Get(f.ctx, name, metav1.GetOptions{})
}

// mustExist fails unless the ConfigMap exists, not being deleted, with uid
// (when given).
func (f *fixture) mustExist(name string, uid types.UID) *corev1.ConfigMap {
	f.t.Helper()
	cm, err := f.getConfigMap(name)
	if err != nil {
		f.t.Fatalf("ConfigMap %s: %v", name, err)
	}
	if cm.DeletionTimestamp != nil || (uid != "" && cm.UID != uid) {
		f.t.Fatalf("ConfigMap %s was deleted or replaced (uid %s, want %s)", name, cm.UID, uid)
	}
	return cm
}

func (f *fixture) mustBeGone(name string) {
	f.t.Helper()
	if _, err := f.getConfigMap(name); !apierrors.IsNotFound(err) {
		f.t.Fatalf("ConfigMap %s still exists (err %v)", name, err)
	}
}

// deny installs a ValidatingAdmissionPolicy refusing operation on the
// ConfigMaps of the fixture's namespace for which cond (CEL over request)
// holds, waits until it is enforced, and returns a function removing it.
func (f *fixture) deny(operation, cond string, probe func() error) func() {
	f.t.Helper()
	name := "deny-" + f.ns
	fail := admissionv1.Fail
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.OperationType(operation)},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
				},
			}}},
			Validations: []admissionv1.Validation{{Expression: "!(" + cond + ")", Message: "denied by the test"}},
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": f.ns}}},
		},
	}
	adm := f.cs.AdmissionregistrationV1()
	if _, err := adm.ValidatingAdmissionPolicies().Create(f.ctx, policy, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := adm.ValidatingAdmissionPolicyBindings().Create(f.ctx, binding, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	remove := func() {
		ctx := context.Background()
		_ = adm.ValidatingAdmissionPolicyBindings().Delete(ctx, name, metav1.DeleteOptions{})
		_ = adm.ValidatingAdmissionPolicies().Delete(ctx, name, metav1.DeleteOptions{})
	}
	f.t.Cleanup(remove)
	eventually(f.t, 20*time.Second, "the test's admission policy enforced", func() bool {
		err := probe()
		return err != nil && apierrors.IsInvalid(err) || apierrors.IsForbidden(err)
	})
	return func() {
		remove()
		eventually(f.t, 20*time.Second, "the test's admission policy lifted", func() bool { return probe() == nil })
	}
}

// dryRunDelete asks, without deleting, whether a ConfigMap may be deleted.
func (f *fixture) dryRunDelete(name string) func() error {
	return func() error {
		return f.cs.CoreV1().ConfigMaps(f.ns).Delete(f.ctx, name, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
	}
}

// forgeRecord writes a ConfigMap with the labels and data of a record, as
// anyone who can write ConfigMaps in the inventory namespace could.
func (f *fixture) forgeRecord(name string, labels map[string]string, data string) {
	f.t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: labels}, Data: map[string]string{inventoryDataKey: data}}
	if _, err := f.cs.CoreV1().ConfigMaps(f.ns).Create(f.ctx, cm, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}
