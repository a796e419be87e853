package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/render"
)

// TestFailedDeleteIsRetriedAtTheSameHead (issue 11): a delete that fails is
// tried again at the next poll although the head did not move.
func TestFailedDeleteIsRetriedAtTheSameHead(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", result(bundleUnit(t, "a", f.configMap("keep"), f.configMap("sticky"))))
	lift := f.deny("DELETE", `request.name == "sticky"`, f.dryRunDelete("sticky"))
	f.pass("rev2", result(bundleUnit(t, "a", f.configMap("keep"))))
	f.mustExist("sticky", "")
	if n := len(f.eventsOf(EventPruneFailed)); n != 1 {
		t.Fatalf("PruneFailed events = %d, want 1", n)
	}
	lift()
	f.pass("rev2", result(bundleUnit(t, "a", f.configMap("keep")))) // the same head
	f.mustBeGone("sticky")
}

// TestFailedRecordWriteIsRetriedAtTheSameHead (issue 11): a record that could
// not be written is written at the next poll although the head did not move.
func TestFailedRecordWriteIsRetriedAtTheSameHead(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", result(bundleUnit(t, "a", f.configMap("a1"))))
	parent := parentName(f.instance, "bundle", "a")
	probe := func() error {
		cm, err := f.getConfigMap(parent)
		if err != nil {
			return err
		}
		_, err = f.cs.CoreV1().ConfigMaps(f.ns).Update(f.ctx, cm, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}
	lift := f.deny("UPDATE", `request.name == "`+parent+`"`, probe)
	f.pass("rev2", result(bundleUnit(t, "a", f.configMap("a1"), f.configMap("a2"))))
	if n := len(f.inventoryRecord("bundle", "a").Objects); n != 1 {
		t.Fatalf("the denied record write went through: %d objects recorded", n)
	}
	lift()
	f.pass("rev2", result(bundleUnit(t, "a", f.configMap("a1"), f.configMap("a2")))) // the same head
	if rec := f.inventoryRecord("bundle", "a"); len(rec.Objects) != 2 || rec.Revision != "rev2" {
		t.Errorf("record after the retry: revision %s, %d objects; want rev2 with a1 and a2", rec.Revision, len(rec.Objects))
	}
}

// TestBundleJobIsPrunedLikeAnyObject (issue 11): keepRuns and "never delete a
// running Job" are for a model's training runs; a Job a bundle no longer
// renders is pruned.
func TestBundleJobIsPrunedLikeAnyObject(t *testing.T) {
	f := newFixture(t)
	job := fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: %s}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: registry.example.com/migrate:v1}]
`, f.ns)
	f.pass("rev1", result(bundleUnit(t, "db", f.configMap("db1"), job)))
	f.pass("rev2", result(bundleUnit(t, "db", f.configMap("db1"))))
	eventually(t, 10*time.Second, "the bundle's Job deleted", func() bool {
		j, err := f.cs.BatchV1().Jobs(f.ns).Get(f.ctx, "migrate", metav1.GetOptions{})
		return err != nil || j.DeletionTimestamp != nil
	})
}

// TestZeroModelsGuardCountsModels (issue 11): a revision that renders only a
// bundle while models are managed (models/ renamed by mistake) prunes
// nothing, however few objects the models have.
func TestZeroModelsGuardCountsModels(t *testing.T) {
	f := newFixture(t)
	res := f.models(map[string]string{"a": servingSpec("a", imgA, 1), "b": servingSpec("b", imgA, 1), "c": servingSpec("c", imgA, 1)})
	res.Units = append([]render.Unit{bundleUnit(t, "platform", f.configMap("quota"))}, res.Units...)
	f.pass("rev1", res)
	f.pass("rev2", result(bundleUnit(t, "platform", f.configMap("quota"))))
	for _, name := range []string{"a", "b", "c"} {
		if _, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("deployment %s deleted although the revision renders no models: %v", name, err)
		}
	}
	if evs := f.eventsOf(EventPruneBlocked); len(evs) != 1 || !strings.Contains(evs[0].Message, "renders no models") {
		t.Errorf("PruneBlocked events = %+v, want one saying the revision renders no models", evs)
	}
}

// TestUnwatchableKindDoesNotHangTheLoop (issue 11): a kind tether may apply
// but not list or watch (here: RBAC) is reported in Ready and /status; the
// pass finishes and other units are applied.
func TestUnwatchableKindDoesNotHangTheLoop(t *testing.T) {
	f := newFixture(t)
	user := "limited-" + f.ns
	f.grant(user, []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch", "create", "patch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "create", "patch"}},
	})
	cfg := rest.CopyConfig(cluster.Shared().Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	f.startAs(cfg)
	secret := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: s1, namespace: %s}\nstringData: {k: v}\n", f.ns)
	svc := fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: no-rights, namespace: %s}\nspec: {ports: [{port: 80}]}\n", f.ns)
	done := make(chan struct{})
	go func() {
		f.pass("rev1", result(bundleUnit(t, "b", f.configMap("b1"), secret), bundleUnit(t, "c", svc)))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the pass hangs on a kind tether cannot list or watch")
	}
	f.mustExist("b1", "")
	// an apply the API server refuses says why, with the permission
	if evs := f.eventsOf(EventSyncFailed); len(evs) != 1 || !strings.Contains(evs[0].Message, `cannot patch resource "services"`) {
		t.Errorf("SyncFailed events = %+v, want one naming the missing permission", evs)
	}
	eventually(t, 10*time.Second, "Ready names the unwatchable kind", func() bool {
		err := f.loop.Ready()
		return err != nil && strings.Contains(err.Error(), "secrets") && strings.Contains(f.loop.Status().NotReady, "secrets")
	})
}

// TestStoppingMidApplyRecordsWhatWasWritten: when the daemon is stopped in
// the middle of applying, every object it wrote is in a record before it
// exits, so none is left unaccounted for (and adopted after a restart).
func TestStoppingMidApplyRecordsWhatWasWritten(t *testing.T) {
	f := newFixture(t)
	specs := map[string]string{}
	for i := range 60 {
		name := fmt.Sprintf("m%02d", i)
		specs[name] = servingSpec(name, imgA, 1)
	}
	res := f.models(specs)
	f.src.rev = "rev1"
	f.res = res
	ctx, stop := context.WithCancel(f.ctx)
	go func() {
		for ctx.Err() == nil {
			if d, err := f.cs.AppsV1().Deployments(f.ns).List(ctx, metav1.ListOptions{}); err == nil && len(d.Items) >= 5 {
				stop()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	f.loop.cycle(ctx)
	stop()
	deps, err := f.cs.AppsV1().Deployments(f.ns).List(f.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(deps.Items) == len(specs) {
		t.Fatal("the pass finished before it was stopped: the test needs a partial apply")
	}
	for _, d := range deps.Items {
		cm, err := f.getConfigMap(parentName(f.instance, "model", d.Name))
		if err != nil || !strings.Contains(cm.Data[inventoryDataKey], `"Deployment","namespace":"`+f.ns+`","name":"`+d.Name+`"`) {
			t.Errorf("deployment %s was written but its record does not list it (err %v)", d.Name, err)
		}
	}
	t.Logf("stopped after %d of %d deployments", len(deps.Items), len(specs))
}

// grant gives user rules across the cluster (tether watches every
// namespace).
func (f *fixture) grant(user string, rules []rbacv1.PolicyRule) {
	f.t.Helper()
	rbac := f.cs.RbacV1()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rules}
	if _, err := rbac.ClusterRoles().Create(f.ctx, role, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	rb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: user},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: user}}}
	if _, err := rbac.ClusterRoleBindings().Create(f.ctx, rb, metav1.CreateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() {
		_ = rbac.ClusterRoleBindings().Delete(context.Background(), user, metav1.DeleteOptions{})
		_ = rbac.ClusterRoles().Delete(context.Background(), user, metav1.DeleteOptions{})
	})
}
