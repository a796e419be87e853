package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/reconcile/plan"
)

// TestPlanClusterRBAC: --cluster works with the roles README.md documents
// (get, list, and patch and create for dry-runs: applying an object that does
// not exist yet is authorized as a create), and without create the refused
// dry-runs are errors, exit 1, never "no change".
func TestPlanClusterRBAC(t *testing.T) {
	cs := clientset(t)
	ns := newNamespace(t, cs)
	repo := gitrepo.New(t)
	repo.Commit(planFiles(t, ns))
	deployOnce(t, repo.Dir, ns, 2)
	repo.Git("checkout", "-q", "-b", "pr")
	repo.Commit(map[string]string{
		"models/churn-scorer/model.yaml":      strings.Replace(readFile(t, "../examples/models/models/churn-scorer/model.yaml"), "replicas: 1", "replicas: 2", 1),
		"bundles/platform/kustomization.yaml": "resources: [db.yaml, more.yaml]\n",
		"bundles/platform/more.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: more, namespace: " + ns + "}\n",
	})
	rules, clusterRules := readmeRBAC(t)
	args := []string{"plan", "--repo", repo.Dir, "--base", "main", "--head", "pr", "--default-namespace", ns, "--cluster", "--format", "json"}
	t.Run("the documented Role", func(t *testing.T) {
		p := runPlanJSON(t, plan.ExitChanges, append(args, "--kubeconfig", restrictedKubeconfig(t, cs, ns, "planner", rules, clusterRules))...)
		if o := findObject(t, p, "ConfigMap/"+ns+"/settings"); o.Action != plan.ActionDelete {
			t.Errorf("settings: %s, want a prune", o.Action)
		}
	})
	t.Run("without create", func(t *testing.T) {
		kubeconfig := restrictedKubeconfig(t, cs, ns, "no-create", without(rules, "create"), without(clusterRules, "create"))
		p := runPlanJSON(t, plan.ExitFailed, append(args, "--kubeconfig", kubeconfig)...)
		if o := findObject(t, p, "ConfigMap/"+ns+"/more"); !strings.Contains(o.Error, `cannot create resource "configmaps"`) {
			t.Errorf("a new ConfigMap without create: %s, error %q", o.Action, o.Error)
		}
		if o := findObject(t, p, "Deployment/"+ns+"/churn-scorer"); o.Action != plan.ActionUpdate || o.Error != "" {
			t.Errorf("an existing Deployment needs only patch: %s, error %q", o.Action, o.Error)
		}
	})
}

// readmeRBAC reads the two ClusterRoles README.md documents for --cluster:
// the kinds tether manages (bound in namespaces) and namespaces.
func readmeRBAC(t *testing.T) (namespaced, cluster []rbacv1.PolicyRule) {
	t.Helper()
	text := readFile(t, "../README.md")
	const marker = "<!-- tether plan RBAC: e2e/plan_rbac_test.go applies these rules -->\n```yaml\n"
	start := strings.Index(text, marker)
	if start < 0 {
		t.Fatal("README.md lost the RBAC block of tether plan --cluster")
	}
	block := text[start+len(marker):]
	block = block[:strings.Index(block, "```")]
	var roles []rbacv1.ClusterRole
	for _, doc := range strings.Split(block, "\n---\n") {
		var r rbacv1.ClusterRole
		if err := yaml.UnmarshalStrict([]byte(doc), &r); err != nil {
			t.Fatalf("README.md's RBAC block: %v", err)
		}
		roles = append(roles, r)
	}
	if len(roles) != 2 {
		t.Fatalf("README.md's RBAC block holds %d ClusterRoles, want 2", len(roles))
	}
	return roles[0].Rules, roles[1].Rules
}

// without returns rules with verb taken out.
func without(rules []rbacv1.PolicyRule, verb string) []rbacv1.PolicyRule {
	out := make([]rbacv1.PolicyRule, len(rules))
	for i, r := range rules {
		r.Verbs = slices.DeleteFunc(slices.Clone(r.Verbs), func(v string) bool { return v == verb })
		out[i] = r
	}
	return out
}

// restrictedKubeconfig writes a kubeconfig for a new service account in ns
// bound as README.md says: rules by a RoleBinding in ns, clusterRules by a
// ClusterRoleBinding.
func restrictedKubeconfig(t *testing.T, cs kubernetes.Interface, ns, account string, rules, clusterRules []rbacv1.PolicyRule) string {
	t.Helper()
	ctx := context.Background()
	name := account + "-" + ns
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: account}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: account, Namespace: ns}}
	for i, r := range [][]rbacv1.PolicyRule{rules, clusterRules} {
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", name, i)}, Rules: r}
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.RbacV1().ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{}) })
		ref := rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name}
		var err error
		if i == 0 {
			_, err = cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: account}, Subjects: subject, RoleRef: ref}, metav1.CreateOptions{})
		} else {
			_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name}, Subjects: subject, RoleRef: ref}, metav1.CreateOptions{})
			t.Cleanup(func() {
				_ = cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), role.Name, metav1.DeleteOptions{})
			})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return tokenKubeconfig(t, cs, ns, account)
}

// tokenKubeconfig writes a kubeconfig that authenticates as a service account.
func tokenKubeconfig(t *testing.T, cs kubernetes.Interface, ns, account string) string {
	t.Helper()
	expiry := int64(3600)
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), account,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := cluster.Shared().Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["plan"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "plan"}
	kc.CurrentContext = "local"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}
