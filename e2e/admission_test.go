package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
)

// Identities the protection test lets through by name.
const (
	exemptUser  = "e2e-exempt"
	exemptGroup = "e2e:break-glass"
	oncallUser  = "e2e-oncall" // a member of exemptGroup
)

// protectedRepo holds three models: guarded (Job + serving under an HPA,
// protected by tether.yaml's default), nightly (a CronJob, spec.protect) and
// open (spec.protect: false).
func protectedRepo(t *testing.T) (*gitrepo.Repo, string) {
	t.Helper()
	repo := gitrepo.New(t)
	head := repo.Commit(map[string]string{
		"tether.yaml": "protect: true\n",
		"models/guarded/model.yaml": `apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: guarded}
spec:
  image: ` + fraudImage + `
  training: {command: [python, train.py]}
  serving:
    command: [python, serve.py]
    autoscaling: {minReplicas: 1, maxReplicas: 5}
`,
		"models/nightly/model.yaml": `apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: nightly}
spec:
  image: ` + fraudImage + `
  protect: true
  training: {command: [python, train.py], schedule: "0 3 * * *"}
`,
		"models/open/model.yaml": `apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: open}
spec:
  image: ` + churnImage + `
  protect: false
  serving: {command: [python, serve.py]}
`,
	})
	return repo, head
}

// protectEnv is what the steps of TestAdmissionProtect share.
type protectEnv struct {
	cs         kubernetes.Interface // the admin
	ns         string
	repo       *gitrepo.Repo
	daemon     *daemon
	policyArgs []string // tether admission-policy and its flags, without --mode
}

// TestAdmissionProtect runs tether under its own ServiceAccount token on a
// repository with protected models, installs the policy `tether
// admission-policy` prints, and checks who gets through.
func TestAdmissionProtect(t *testing.T) {
	cs := clientset(t)
	ns := newNamespace(t, cs)
	kubeconfig := serviceAccountKubeconfig(t, cs, ns, "tether")
	grantTetherRules(t, cs, ns+"-tether",
		rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "tether"},
		rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: exemptUser},
		rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: exemptGroup})
	repo, head := protectedRepo(t)
	d := startDaemon(t, "--kubeconfig", kubeconfig, "--repo", repo.Dir, "--interval", "1s", "--default-namespace", ns)
	eventually(t, 30*time.Second, "first revision reconciled", func() (bool, error) {
		return d.get(t, "/readyz") == http.StatusOK && len(d.find("revision reconciled", map[string]string{"revision": head})) > 0, nil
	})
	assertRenderedProtection(t, cs, ns)
	env := &protectEnv{cs: cs, ns: ns, repo: repo, daemon: d,
		policyArgs: []string{"admission-policy", "--service-account", ns + "/tether", "--exempt-user", exemptUser, "--exempt-group", exemptGroup}}
	installPolicy(t, ns, append(env.policyArgs, "--mode", "deny"))

	t.Run("type checking reports nothing", env.typeChecked)
	t.Run("kubectl patch and delete by an admin are denied with the message", env.adminDenied)
	t.Run("an unprotected model is not matched", env.unprotectedAllowed)
	t.Run("kubectl scale under the HPA", env.scaleAllowed)
	t.Run("status writes", env.statusAllowed)
	t.Run("kube-system controllers update", env.controllerAllowed)
	t.Run("the deployment controller rolls out what tether applies", env.rolloutAllowed)
	t.Run("dry runs, like tether plan --cluster", env.dryRunAllowed)
	t.Run("exempt users and groups", env.exemptAllowed)
	t.Run("tether still reverts drift", env.driftReverted)
	t.Run("objects being deleted", func(t *testing.T) { assertFinalizerRemovable(t, cs, ns) })
	t.Run("CronJob runs and their cleanup", func(t *testing.T) { assertCronJobRunsDeletable(t, cs, ns) })
	t.Run("warn mode only warns", env.warnOnly)
	t.Run("deleting the namespace", env.namespaceDeleted)
}

// denied is the message of a refused change (verb "change") or deletion
// ("delete") of Deployment guarded.
func (e *protectEnv) denied(verb string) string {
	return "tether protects Deployment " + e.ns + "/guarded: it belongs to model guarded, rendered from models/guarded in Git, " +
		"and only tether may " + verb + " it. Change models/guarded/model.yaml (or the kustomization.yaml beside it) in Git " +
		"and tether applies it. In an emergency, act as a member of group " + exemptGroup +
		`, or delete ValidatingAdmissionPolicyBinding tether-protect (see "Drift prevention" in the tether README)`
}

func (e *protectEnv) guarded(t *testing.T) *appsv1.Deployment {
	t.Helper()
	dep, err := e.cs.AppsV1().Deployments(e.ns).Get(context.Background(), "guarded", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return dep
}

func (e *protectEnv) typeChecked(t *testing.T) {
	p, err := e.cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(context.Background(), "tether-protect", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tc := p.Status.TypeChecking; tc == nil || len(tc.ExpressionWarnings) > 0 {
		t.Errorf("status.typeChecking = %+v, want no warnings", tc)
	}
	assertTypeCheckingCatches(t, e.cs, p)
}

func (e *protectEnv) adminDenied(t *testing.T) {
	_, stderr, err := kubectl(t, "", "-n", e.ns, "patch", "deployment", "guarded", "--type=merge", "-p", `{"spec":{"minReadySeconds":7}}`)
	if err == nil || !strings.Contains(stderr, "(Forbidden)") || !strings.Contains(stderr, e.denied("change")) {
		t.Errorf("kubectl patch: err %v, stderr %s\nwant Forbidden and %q", err, stderr, e.denied("change"))
	}
	t.Logf("kubectl patch: %s", stderr)
	_, stderr, err = kubectl(t, "", "-n", e.ns, "delete", "deployment", "guarded", "--wait=false")
	if err == nil || !strings.Contains(stderr, e.denied("delete")) {
		t.Errorf("kubectl delete: err %v, stderr %s\nwant %q", err, stderr, e.denied("delete"))
	}
	if dep := e.guarded(t); dep.DeletionTimestamp != nil || dep.Spec.MinReadySeconds != 0 {
		t.Errorf("the Deployment changed")
	}
}

func (e *protectEnv) unprotectedAllowed(t *testing.T) {
	if _, stderr, err := kubectl(t, "", "-n", e.ns, "annotate", "deployment", "open", "e2e/touched=yes"); err != nil {
		t.Errorf("kubectl annotate of an unprotected Deployment: %v\n%s", err, stderr)
	}
}

func (e *protectEnv) scaleAllowed(t *testing.T) {
	if _, stderr, err := kubectl(t, "", "-n", e.ns, "scale", "deployment", "guarded", "--replicas=3"); err != nil {
		t.Fatalf("kubectl scale: %v\n%s", err, stderr)
	}
	if dep := e.guarded(t); dep.Spec.Replicas == nil || *dep.Spec.Replicas != 3 {
		t.Errorf("replicas not scaled to 3")
	}
}

func (e *protectEnv) statusAllowed(t *testing.T) {
	body := `{"status":{"conditions":[{"type":"E2EProbe","status":"True","reason":"Probe"}]}}`
	_, err := e.cs.AppsV1().Deployments(e.ns).Patch(context.Background(), "guarded", types.StrategicMergePatchType, []byte(body), metav1.PatchOptions{}, "status")
	if err != nil {
		t.Errorf("status patch by the admin: %v", err)
	}
}

// controllerAllowed updates the Deployment itself (not its status) as the
// deployment controller's ServiceAccount, as the garbage collector does when
// it edits owner references or finalizers.
func (e *protectEnv) controllerAllowed(t *testing.T) {
	ctx := context.Background()
	controller := impersonating(t, "system:serviceaccount:kube-system:deployment-controller", kubeSystemGroups...)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		dep, err := controller.AppsV1().Deployments(e.ns).Get(ctx, "guarded", metav1.GetOptions{})
		if err != nil {
			return err
		}
		metav1.SetMetaDataAnnotation(&dep.ObjectMeta, "e2e/controller", "was-here")
		_, err = controller.AppsV1().Deployments(e.ns).Update(ctx, dep, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Errorf("update as the deployment controller: %v", err)
	}
}

func (e *protectEnv) rolloutAllowed(t *testing.T) {
	spec := strings.Replace(readFile(t, e.repo.Dir+"/models/guarded/model.yaml"), "command: [python, serve.py]", "command: [python, serve.py, --v2]", 1)
	e.repo.Commit(map[string]string{"models/guarded/model.yaml": spec})
	eventually(t, 30*time.Second, "deployment.kubernetes.io/revision 2 on the protected Deployment", func() (bool, error) {
		return e.guarded(t).Annotations["deployment.kubernetes.io/revision"] == "2", nil
	})
}

// dryRunAllowed: tether plan --cluster does not exist yet; its request, a
// server-side dry-run apply with field manager tether, is sent by the admin.
func (e *protectEnv) dryRunAllowed(t *testing.T) {
	if _, stderr, err := kubectl(t, "", "-n", e.ns, "patch", "deployment", "guarded", "--dry-run=server", "--type=merge", "-p", `{"spec":{"minReadySeconds":7}}`); err != nil {
		t.Errorf("kubectl patch --dry-run=server: %v\n%s", err, stderr)
	}
	rendered := runTether(t, "render", e.repo.Dir, "--model", "guarded", "--default-namespace", e.ns)
	apply := []string{"apply", "--server-side", "--field-manager=tether", "--force-conflicts", "-f", "-"}
	if _, stderr, err := kubectl(t, rendered, append(apply, "--dry-run=server")...); err != nil {
		t.Errorf("server-side dry-run apply as the admin with field manager tether: %v\n%s", err, stderr)
	}
	if _, stderr, err := kubectl(t, rendered, apply...); err == nil || !strings.Contains(stderr, "tether protects") {
		t.Errorf("the same apply without --dry-run must be denied: err %v\n%s", err, stderr)
	}
}

func (e *protectEnv) exemptAllowed(t *testing.T) {
	for _, cs := range []kubernetes.Interface{impersonating(t, exemptUser), impersonating(t, oncallUser, exemptGroup)} {
		body := `{"metadata":{"annotations":{"e2e/break-glass":"used"}}}`
		if _, err := cs.AppsV1().Deployments(e.ns).Patch(context.Background(), "guarded", types.MergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
			t.Errorf("patch by an exempt identity: %v", err)
		}
	}
}

// driftReverted: a change that got through (by an exempt user) is still
// drift, and tether, under its ServiceAccount, reverts it.
func (e *protectEnv) driftReverted(t *testing.T) {
	body := `{"spec":{"template":{"spec":{"containers":[{"name":"serve","image":"evil:latest"}]}}}}`
	exempt := impersonating(t, exemptUser)
	if _, err := exempt.AppsV1().Deployments(e.ns).Patch(context.Background(), "guarded", types.StrategicMergePatchType, []byte(body), metav1.PatchOptions{FieldManager: intruder}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "image reverted by tether", func() (bool, error) {
		return e.guarded(t).Spec.Template.Spec.Containers[0].Image == fraudImage, nil
	})
}

func (e *protectEnv) warnOnly(t *testing.T) {
	installPolicy(t, e.ns, append(e.policyArgs, "--mode", "warn"))
	warnings := &warningRecorder{}
	cfg := rest.CopyConfig(cluster.Shared().Config)
	cfg.WarningHandler = warnings
	admin, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"metadata":{"annotations":{"e2e/warned":"yes"}}}`
	eventually(t, 10*time.Second, "admin patch allowed with a warning", func() (bool, error) {
		_, err := admin.AppsV1().Deployments(e.ns).Patch(context.Background(), "guarded", types.MergePatchType, []byte(body), metav1.PatchOptions{})
		return err == nil && warnings.contains(e.denied("change")), err
	})
	installPolicy(t, e.ns, append(e.policyArgs, "--mode", "deny"))
}

// namespaceDeleted: the namespace controller deletes protected objects.
// tether is stopped first so that it does not try to recreate them.
func (e *protectEnv) namespaceDeleted(t *testing.T) {
	ctx := context.Background()
	e.daemon.stop(t)
	if err := e.cs.CoreV1().Namespaces().Delete(ctx, e.ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 90*time.Second, "namespace and its protected objects gone", func() (bool, error) {
		_, err := e.cs.CoreV1().Namespaces().Get(ctx, e.ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
}

// assertRenderedProtection checks the labels tether applied: protected models'
// objects carry tether.dev/protect=true, pod and Job templates and the opted-out
// model do not, and serving names its training run.
func assertRenderedProtection(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	ctx := context.Background()
	guarded, err := cs.AppsV1().Deployments(ns).Get(ctx, "guarded", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	open, err := cs.AppsV1().Deployments(ns).Get(ctx, "open", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: "tether.dev/model=guarded"})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("want one training Job of guarded: %v %v", jobs, err)
	}
	switch {
	case guarded.Labels["tether.dev/protect"] != "true" || jobs.Items[0].Labels["tether.dev/protect"] != "true":
		t.Errorf("guarded is not labelled tether.dev/protect=true")
	case guarded.Spec.Template.Labels["tether.dev/protect"] != "":
		t.Errorf("the pod template of guarded carries tether.dev/protect")
	case open.Labels["tether.dev/protect"] != "":
		t.Errorf("open (protect: false) carries tether.dev/protect")
	case guarded.Annotations["tether.dev/training-run"] != jobs.Items[0].Name:
		t.Errorf("tether.dev/training-run = %q, want the Job %s", guarded.Annotations["tether.dev/training-run"], jobs.Items[0].Name)
	}
}

// assertFinalizerRemovable: once an exempt user deleted a protected Service
// held by a finalizer, an admin may remove the finalizer (the object is being
// deleted), and tether recreates the Service.
func assertFinalizerRemovable(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	ctx := context.Background()
	exempt := impersonating(t, exemptUser)
	hold := `{"metadata":{"finalizers":["e2e.tether.dev/hold"]}}`
	before, err := exempt.CoreV1().Services(ns).Patch(ctx, "guarded", types.MergePatchType, []byte(hold), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := exempt.CoreV1().Services(ns).Delete(ctx, "guarded", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	release := `{"metadata":{"finalizers":null}}`
	if _, err := cs.CoreV1().Services(ns).Patch(ctx, "guarded", types.MergePatchType, []byte(release), metav1.PatchOptions{}); err != nil {
		t.Fatalf("admin removing the finalizer of a Service being deleted: %v", err)
	}
	eventually(t, 10*time.Second, "Service recreated by tether", func() (bool, error) {
		svc, err := cs.CoreV1().Services(ns).Get(ctx, "guarded", metav1.GetOptions{})
		return err == nil && svc.UID != before.UID && svc.DeletionTimestamp == nil, err
	})
}

// assertCronJobRunsDeletable: the CronJob's jobTemplate carries no protect
// label, so its runs are not protected; even a run that did carry it (an
// overlay could put it there) is deleted by the CronJob controller's
// history cleanup, while an admin's delete of it is refused.
func assertCronJobRunsDeletable(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	ctx := context.Background()
	cj, err := cs.BatchV1().CronJobs(ns).Get(ctx, "nightly-train", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cj.Labels["tether.dev/protect"] != "true" || cj.Spec.JobTemplate.Labels["tether.dev/protect"] != "" {
		t.Errorf("CronJob labels %v, jobTemplate labels %v: want the CronJob protected, its runs not", cj.Labels, cj.Spec.JobTemplate.Labels)
	}
	run := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: "nightly-train-e2e", Labels: map[string]string{"tether.dev/protect": "true"},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))},
		},
		Spec: cj.Spec.JobTemplate.Spec,
	}
	if _, err := cs.BatchV1().Jobs(ns).Create(ctx, run, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	background := metav1.DeletePropagationBackground
	want := "tether protects Job " + ns + "/" + run.Name + " (labelled tether.dev/protect=true), and only tether may delete it. In an emergency"
	if err := cs.BatchV1().Jobs(ns).Delete(ctx, run.Name, metav1.DeleteOptions{PropagationPolicy: &background}); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("admin delete of a labelled run: %v\nwant Forbidden with %q", err, want)
	}
	controller := impersonating(t, "system:serviceaccount:kube-system:cronjob-controller", kubeSystemGroups...)
	if err := controller.BatchV1().Jobs(ns).Delete(ctx, run.Name, metav1.DeleteOptions{PropagationPolicy: &background}); err != nil {
		t.Errorf("history cleanup as the cronjob controller: %v", err)
	}
}
