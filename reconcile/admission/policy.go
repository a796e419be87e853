package admission

import (
	"fmt"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tether-ml/tether/render"
)

// Name is the name of the policy and of its binding: stable, so that applying
// the output again updates them in place.
const Name = "tether-protect"

// Modes say what a refused request gets: refused (deny), through with a
// warning to the client (warn), or through with an audit annotation (audit).
const (
	ModeDeny  = "deny"
	ModeWarn  = "warn"
	ModeAudit = "audit"
)

var actions = map[string]admissionregistrationv1.ValidationAction{
	ModeDeny:  admissionregistrationv1.Deny,
	ModeWarn:  admissionregistrationv1.Warn,
	ModeAudit: admissionregistrationv1.Audit,
}

// Options say who may change protected objects and what happens to others.
type Options struct {
	// ServiceAccounts are tether's identities as "namespace/name": one per
	// tether instance that applies protected objects. At least one.
	ServiceAccounts []string
	Mode            string   // ModeDeny (the default when empty), ModeWarn or ModeAudit
	ExemptUsers     []string // usernames that may change protected objects
	ExemptGroups    []string // groups that may change protected objects: the break-glass
	// Resources are more kinds to protect, as "group/resource" or, for the
	// core group, "resource": what an overlay adds besides tether's kinds.
	Resources []string
}

// Policy returns the ValidatingAdmissionPolicy and its binding for opts, or
// an error naming the option that is wrong.
func Policy(opts Options) (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding, error) {
	if opts.Mode == "" {
		opts.Mode = ModeDeny
	}
	action, ok := actions[opts.Mode]
	if !ok {
		return nil, nil, fmt.Errorf("mode %q: expected %s, %s or %s", opts.Mode, ModeDeny, ModeWarn, ModeAudit)
	}
	users, err := serviceAccountUsers(opts.ServiceAccounts)
	if err != nil {
		return nil, nil, err
	}
	if err := checkNames("exempt user", opts.ExemptUsers); err != nil {
		return nil, nil, err
	}
	if err := checkNames("exempt group", opts.ExemptGroups); err != nil {
		return nil, nil, err
	}
	rules, err := resourceRules(opts.Resources)
	if err != nil {
		return nil, nil, err
	}
	return policy(rules, users, opts), binding(action), nil
}

func policy(rules []admissionregistrationv1.NamedRuleWithOperations, tether []string, opts Options) *admissionregistrationv1.ValidatingAdmissionPolicy {
	fail := admissionregistrationv1.Fail
	return &admissionregistrationv1.ValidatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: objectMeta(),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules:  rules,
				ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{render.LabelProtect: "true"}},
			},
			MatchConditions: matchConditions(),
			Variables:       variables(tether, opts.ExemptUsers, opts.ExemptGroups),
			Validations: []admissionregistrationv1.Validation{{
				Expression:        "variables.byTether || variables.byController || variables.exempt",
				Message:           message(opts.ExemptGroups),
				MessageExpression: messageExpression(opts.ExemptGroups),
				Reason:            ptr(metav1.StatusReasonForbidden),
			}},
		},
	}
}

func binding(action admissionregistrationv1.ValidationAction) *admissionregistrationv1.ValidatingAdmissionPolicyBinding {
	return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: objectMeta(),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        Name,
			ValidationActions: []admissionregistrationv1.ValidationAction{action},
		},
	}
}

func objectMeta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: Name, Labels: map[string]string{
		render.LabelName:      "tether",
		render.LabelComponent: "drift-prevention",
	}}
}

// serviceAccountUsers turns "namespace/name" into the usernames the API
// server gives ServiceAccount tokens: system:serviceaccount:namespace:name.
func serviceAccountUsers(accounts []string) ([]string, error) {
	if len(accounts) == 0 {
		return nil, fmt.Errorf("service account: at least one is required (tether's ServiceAccount as NAMESPACE/NAME, e.g. tether-system/tether)")
	}
	var users []string
	for _, sa := range accounts {
		ns, name, ok := strings.Cut(sa, "/")
		switch {
		case !ok || strings.Contains(name, "/"):
			return nil, fmt.Errorf("service account %q: expected NAMESPACE/NAME, e.g. tether-system/tether", sa)
		case len(validation.IsDNS1123Label(ns)) > 0:
			return nil, fmt.Errorf("service account %q: %q is not a valid namespace", sa, ns)
		case len(validation.IsDNS1123Subdomain(name)) > 0:
			return nil, fmt.Errorf("service account %q: %q is not a valid ServiceAccount name", sa, name)
		}
		users = append(users, "system:serviceaccount:"+ns+":"+name)
	}
	slices.Sort(users)
	return slices.Compact(users), nil
}

// checkNames refuses empty user and group names: they would match nobody
// and hide a mistake such as an unset variable.
func checkNames(what string, names []string) error {
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("%s %q: expected a name", what, n)
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
