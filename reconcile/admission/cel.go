package admission

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/tether-ml/tether/render"
)

// controllerManager is kube-controller-manager's own user. With
// --use-service-account-credentials (kubeadm, kind, most distributions) each
// controller acts as a ServiceAccount in kube-system instead; without it, as
// this user.
const controllerManager = "system:kube-controller-manager"

// kubeSystemAccounts is the group of every ServiceAccount in kube-system: the
// garbage collector and the namespace, Deployment, ReplicaSet, Job, CronJob
// and HPA controllers.
const kubeSystemAccounts = "system:serviceaccounts:kube-system"

// matchConditions leave out the requests that never count as drift: dry runs
// (they persist nothing; tether plan --cluster sends them) and requests on an
// object already being deleted (finalizers being removed, the namespace
// controller's and garbage collector's deletes).
func matchConditions() []admissionregistrationv1.MatchCondition {
	return []admissionregistrationv1.MatchCondition{
		{Name: "not-dry-run", Expression: "!request.dryRun"},
		{Name: "not-being-deleted", Expression: "!has(oldObject.metadata.deletionTimestamp)"},
	}
}

// variables name who is asking. oldObject is set for every request the
// policy matches (UPDATE and DELETE); model and source come from the labels
// and annotations tether renders, for the message ("" for an object someone
// else labelled).
func variables(tether, exemptUsers, exemptGroups []string) []admissionregistrationv1.Variable {
	exempt := []string{}
	if len(exemptUsers) > 0 {
		exempt = append(exempt, "request.userInfo.username in "+celList(exemptUsers))
	}
	if len(exemptGroups) > 0 {
		exempt = append(exempt, "(has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in "+celList(exemptGroups)+"))")
	}
	if len(exempt) == 0 {
		exempt = []string{"false"}
	}
	return []admissionregistrationv1.Variable{
		{Name: "byTether", Expression: "request.userInfo.username in " + celList(tether)},
		{Name: "byController", Expression: "request.userInfo.username == " + celString(controllerManager) +
			"\n|| (has(request.userInfo.groups) && " + celString(kubeSystemAccounts) + " in request.userInfo.groups)"},
		{Name: "exempt", Expression: strings.Join(exempt, "\n|| ")},
		{Name: "model", Expression: "oldObject.metadata.?labels[?" + celString(render.LabelModel) + "].orValue('')"},
		{Name: "source", Expression: "oldObject.metadata.?annotations[?" + celString(render.AnnotationSrc) + "].orValue('" + render.ModelsDir + "/' + variables.model)"},
	}
}

// messageExpression names the object, its model and folder in Git, how to
// change it, and the break-glass.
func messageExpression(exemptGroups []string) string {
	return strings.Join([]string{
		"'tether protects ' + request.kind.kind + ' ' + (request.namespace != '' ? request.namespace + '/' : '') + request.name",
		"(variables.model != '' ? ': it belongs to model ' + variables.model + ', rendered from ' + variables.source + ' in Git,' : ' (labelled " + render.LabelProtect + "=true),')",
		"' and only tether may ' + (request.operation == 'DELETE' ? 'delete' : 'change') + ' it. '",
		"(variables.model != '' ? 'Change ' + variables.source + '/" + render.ModelFile + " (or the kustomization.yaml beside it) in Git and tether applies it. ' : '')",
		celString(breakGlass(exemptGroups)),
	}, "\n+ ")
}

// message is the fallback should messageExpression fail.
func message(exemptGroups []string) string {
	return "tether protects this object: change its model's folder in Git and tether applies it. " + breakGlass(exemptGroups)
}

// breakGlass says how to get through in an emergency.
func breakGlass(exemptGroups []string) string {
	binding := "delete ValidatingAdmissionPolicyBinding " + Name + " (see \"Drift prevention\" in the tether README)"
	if len(exemptGroups) == 0 {
		return "In an emergency, " + binding
	}
	return "In an emergency, act as a member of group " + strings.Join(exemptGroups, " or ") + ", or " + binding
}

// celString is s as a CEL string literal: single-quoted when that needs no
// escapes, otherwise Go's double-quoted form, whose escapes CEL shares.
func celString(s string) string {
	plain := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == '\'' || r == '\\' }) < 0
	if plain && utf8.ValidString(s) {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}

func celList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = celString(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
