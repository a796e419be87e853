package test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var observe = flag.Duration("rbac.observe", 0,
	"least-privilege test: after the refusal, keep tether running this long and log whether its pass still completed")

// permission is one verb on one resource, granted by one Role or ClusterRole.
type permission struct {
	role                  string // ClusterRole/name or Role/namespace/name
	group, resource, verb string
	namespace             string // where the check applies
}

func (p permission) String() string {
	group := p.group
	if group == "" {
		group = "core"
	}
	return p.verb + " " + group + "/" + p.resource
}

// denial is the API server's wording when the permission is missing.
func (p permission) denial() []string {
	subs := []string{fmt.Sprintf(`cannot %s resource "%s"`, p.verb, p.resource)}
	if p.group != "" {
		subs = append(subs, fmt.Sprintf(`in API group "%s"`, p.group))
	}
	return subs
}

// env is the environment tether runs with when p is taken away. client-go's
// informers list through a watch (WatchListClient, on by default since
// v0.35) where the API server streams lists, as this one does; they fall back
// to list against API servers that do not (before 1.32, or with WatchList
// off). The chart keeps list for those; the test proves it the same way.
func (p permission) env(t *testing.T) []string {
	if p.verb != "list" || !strings.HasPrefix(p.role, "ClusterRole/") {
		return nil
	}
	t.Logf("informers list with a plain list here (KUBE_FEATURE_WatchListClient=false), as against API servers without streaming lists")
	return []string{"KUBE_FEATURE_WatchListClient=false"}
}

// pendingPermissions are granted for what the daemon does next (issue 12):
// until it does, taking them away changes nothing this test can see.
var pendingPermissions = map[string]string{}

// errRefused ends a scenario once tether logged the refusal.
var errRefused = errors.New("tether logged the refusal")

// testLeastPrivilege takes each permission of the chart's ClusterRole and
// Role away in turn: tether must then fail, with a log line naming it.
func (e *env) testLeastPrivilege(t *testing.T) {
	perms := e.permissions(t)
	kubeconfig := e.tokenKubeconfig(t, e.token(t))
	for _, p := range perms {
		t.Run(p.String(), func(t *testing.T) {
			e.clean(t)
			e.resetRepo(t)
			e.revoke(t, p)
			d := e.runHost(t, kubeconfig, p.env(t)...)
			refused := d.watch(p.denial()...)
			start := time.Now()
			ctx, cancel := context.WithCancelCause(context.Background())
			ctx, stop := context.WithTimeout(ctx, scenarioTimeout)
			defer stop()
			go func() {
				select {
				case <-refused.fired:
					cancel(errRefused)
				case <-ctx.Done():
				}
			}()
			err := e.scenario(ctx, t)
			e.verdict(t, d, p, err, time.Since(start))
		})
	}
}

// verdict says what taking p away did.
func (e *env) verdict(t *testing.T, d *daemon, p permission, err error, took time.Duration) {
	t.Helper()
	reason, pending := pendingPermissions[p.String()]
	line, refused := d.logged(p.denial()...)
	switch {
	case refused:
		t.Logf("refused after %s: %s", took.Round(10*time.Millisecond), line)
		if pending {
			t.Logf("%s is no longer pending (%s): drop it from pendingPermissions", p, reason)
		}
		e.observe(t, d)
	case err == nil && pending:
		t.Logf("not proven: tether needs no %s yet (%s)", p, reason)
	case err == nil:
		t.Errorf("tether applied, reverted and pruned without %s: the chart grants more than tether needs", p)
	default:
		t.Errorf("without %s tether failed (%v), but no log line names the permission (want %q); logs:\n%s",
			p, err, p.denial(), d.logs())
	}
}

// observe keeps a refused tether running for -rbac.observe and logs whether
// it still completed a pass or hung.
func (e *env) observe(t *testing.T, d *daemon) {
	if *observe == 0 {
		return
	}
	select {
	case <-d.watch("msg=revision reconciled").fired:
		t.Logf("the pass still completed")
	case <-time.After(*observe):
		t.Logf("no pass completed within %s (hang)", *observe)
	}
}

// permissions lists every verb on every resource that the chart's
// ClusterRole and its Role in the release namespace grant.
func (e *env) permissions(t *testing.T) []permission {
	t.Helper()
	ctx := context.Background()
	cr, err := e.cs.RbacV1().ClusterRoles().Get(ctx, releaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	role, err := e.cs.RbacV1().Roles(releaseNamespace).Get(ctx, releaseName+"-self", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	perms := expand("ClusterRole/"+cr.Name, modelNamespace, cr.Rules)
	perms = append(perms, expand("Role/"+releaseNamespace+"/"+role.Name, releaseNamespace, role.Rules)...)
	if len(perms) < 30 {
		t.Fatalf("only %d permissions in the chart's roles", len(perms))
	}
	return perms
}

// expand splits rules into single permissions.
func expand(role, namespace string, rules []rbacv1.PolicyRule) []permission {
	var out []permission
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out = append(out, permission{role: role, group: g, resource: res, verb: v, namespace: namespace})
				}
			}
		}
	}
	return out
}

// rulesWithout is rules, one rule per resource, less p's verb.
func rulesWithout(rules []rbacv1.PolicyRule, p permission) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				verbs := slices.Clone(r.Verbs)
				if g == p.group && res == p.resource {
					verbs = slices.DeleteFunc(verbs, func(v string) bool { return v == p.verb })
				}
				if len(verbs) > 0 {
					out = append(out, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: []string{res}, Verbs: verbs})
				}
			}
		}
	}
	return out
}

// revoke takes p away from its role until the test ends, and waits until the
// API server's authorizer says so.
func (e *env) revoke(t *testing.T, p permission) {
	t.Helper()
	ctx := context.Background()
	rbac := e.cs.RbacV1()
	if strings.HasPrefix(p.role, "ClusterRole/") {
		cr, err := rbac.ClusterRoles().Get(ctx, releaseName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		original := cr.Rules
		cr.Rules = rulesWithout(original, p)
		if _, err := rbac.ClusterRoles().Update(ctx, cr, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.restoreClusterRole(t, original, p) })
	} else {
		role, err := rbac.Roles(releaseNamespace).Get(ctx, releaseName+"-self", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		original := role.Rules
		role.Rules = rulesWithout(original, p)
		if _, err := rbac.Roles(releaseNamespace).Update(ctx, role, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.restoreRole(t, original, p) })
	}
	e.waitAllowed(t, p, false)
}

func (e *env) restoreClusterRole(t *testing.T, rules []rbacv1.PolicyRule, p permission) {
	cr, err := e.cs.RbacV1().ClusterRoles().Get(context.Background(), releaseName, metav1.GetOptions{})
	if err == nil {
		cr.Rules = rules
		_, err = e.cs.RbacV1().ClusterRoles().Update(context.Background(), cr, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatalf("restore ClusterRole: %v", err)
	}
	e.waitAllowed(t, p, true)
}

func (e *env) restoreRole(t *testing.T, rules []rbacv1.PolicyRule, p permission) {
	roles := e.cs.RbacV1().Roles(releaseNamespace)
	role, err := roles.Get(context.Background(), releaseName+"-self", metav1.GetOptions{})
	if err == nil {
		role.Rules = rules
		_, err = roles.Update(context.Background(), role, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatalf("restore Role: %v", err)
	}
	e.waitAllowed(t, p, true)
}

// waitAllowed waits until a SubjectAccessReview for the chart's
// ServiceAccount answers allowed for p.
func (e *env) waitAllowed(t *testing.T, p permission, allowed bool) {
	t.Helper()
	sa := "system:serviceaccount:" + releaseNamespace + ":" + releaseName
	review := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User:   sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNamespace, "system:authenticated"},
		ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: p.namespace, Verb: p.verb, Group: p.group, Resource: p.resource,
		},
	}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := e.cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), review, metav1.CreateOptions{})
		if err == nil && got.Status.Allowed == allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s for %s: allowed is not %v after 10s (err %v)", p, sa, allowed, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
