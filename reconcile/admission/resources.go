package admission

import (
	"fmt"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// protected are the kinds tether renders from a model. The versions are
// explicit so that the API server can type-check the policy's expressions
// against their schemas; with the default matchPolicy Equivalent a request
// through another version of the same resource (autoscaling/v1) matches too.
var protected = []resourceRule{
	{group: "apps", version: "v1", resources: []string{"deployments"}},
	{group: "", version: "v1", resources: []string{"services"}},
	{group: "batch", version: "v1", resources: []string{"cronjobs", "jobs"}},
	{group: "autoscaling", version: "v2", resources: []string{"horizontalpodautoscalers"}},
}

// dotless are the built-in API groups without a dot in their name: any other
// group in a --resource has one, and without it "deployments/scale" would
// read as group "deployments".
var dotless = map[string]bool{"apps": true, "batch": true, "autoscaling": true, "policy": true, "extensions": true}

type resourceRule struct {
	group, version string
	resources      []string
}

// resourceRules matches UPDATE and DELETE of tether's kinds and of extra
// ("group/resource" or "resource"), and of no subresource: a rule naming
// "deployments" does not match "deployments/scale" or "deployments/status",
// so scaling and controllers' status writes never reach the policy.
func resourceRules(extra []string) ([]admissionregistrationv1.NamedRuleWithOperations, error) {
	rules := slices.Clone(protected)
	byGroup := map[string]int{}
	for _, r := range extra {
		group, resource, err := parseResource(r)
		if err != nil {
			return nil, err
		}
		if covered(rules, group, resource) {
			continue
		}
		i, ok := byGroup[group]
		if !ok {
			i = len(rules)
			byGroup[group] = i
			rules = append(rules, resourceRule{group: group, version: "*"})
		}
		rules[i].resources = append(rules[i].resources, resource)
	}
	added := rules[len(protected):]
	slices.SortFunc(added, func(a, b resourceRule) int { return strings.Compare(a.group, b.group) })
	for _, r := range added {
		slices.Sort(r.resources)
	}
	out := make([]admissionregistrationv1.NamedRuleWithOperations, 0, len(rules))
	for _, r := range rules {
		out = append(out, admissionregistrationv1.NamedRuleWithOperations{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update, admissionregistrationv1.Delete},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{r.group}, APIVersions: []string{r.version}, Resources: r.resources,
			},
		}})
	}
	return out, nil
}

// parseResource splits "group/resource" (or "resource", the core group).
func parseResource(s string) (group, resource string, err error) {
	group, resource, ok := strings.Cut(s, "/")
	if !ok {
		group, resource = "", s
	}
	const expected = "expected GROUP/RESOURCE such as networking.k8s.io/ingresses, or RESOURCE such as configmaps for the core group"
	switch {
	case strings.Contains(resource, "/") || (ok && !strings.Contains(group, ".") && !dotless[group]):
		return "", "", fmt.Errorf("resource %q: %s (subresources are never matched)", s, expected)
	case len(validation.IsDNS1123Label(resource)) > 0:
		return "", "", fmt.Errorf("resource %q: %q is not a resource name; %s", s, resource, expected)
	case ok && len(validation.IsDNS1123Subdomain(group)) > 0:
		return "", "", fmt.Errorf("resource %q: %q is not an API group; %s", s, group, expected)
	}
	return group, resource, nil
}

func covered(rules []resourceRule, group, resource string) bool {
	for _, r := range rules {
		if r.group == group && slices.Contains(r.resources, resource) {
			return true
		}
	}
	return false
}
