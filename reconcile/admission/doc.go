// Package admission builds the ValidatingAdmissionPolicy that keeps drift from
// happening at all: UPDATE and DELETE of objects labelled tether.dev/protect=true
// are refused unless tether itself, kube-system's controllers, a dry run, an
// object already being deleted or an exempt user or group is behind them. The
// API server enforces it in-process: there is no webhook server to run.
//
// It is pure: Policy turns Options into the two objects and Write prints them.
// Installing them is left to the caller (kubectl apply, the Helm chart); the
// labels the policy selects are rendered by package render (spec.protect).
//
//	policy, binding, err := admission.Policy(admission.Options{ServiceAccounts: []string{"tether-system/tether"}})
//	err = admission.Write(os.Stdout, policy, binding)
package admission
