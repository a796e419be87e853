package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/e2e/slackrecv"
	"github.com/tether-ml/tether/reconcile/preview"
)

// previewEnv is a models repository served over HTTP, a namespace for its
// models, and the preview namespaces tether makes from it.
type previewEnv struct {
	t      *testing.T
	cs     kubernetes.Interface
	ns     string // the models' namespace; also the inventory's and the instance
	repo   *gitrepo.Repo
	server *gitrepo.Server
	main   string // the tracked branch's head
}

func newPreviewEnv(t *testing.T, trackedSettings string) *previewEnv {
	t.Helper()
	cs := clientset(t)
	e := &previewEnv{t: t, cs: cs, ns: newNamespace(t, cs), repo: gitrepo.New(t)}
	if len(e.ns) > 40 {
		t.Fatalf("namespace %s is too long to be an --instance", e.ns)
	}
	t.Cleanup(e.deletePreviewNamespaces)
	e.main = e.repo.Commit(map[string]string{"models/a/model.yaml": modelSpec("a"), "tether.yaml": trackedSettings})
	e.server = gitrepo.Serve(t, e.repo.Dir)
	return e
}

// start runs the daemon with previews of refs/pull/*/head and args.
func (e *previewEnv) start(args ...string) *daemon {
	e.t.Helper()
	base := []string{"--repo", e.server.URL, "--interval", "1s", "--default-namespace", e.ns, "--instance", e.ns,
		"--preview-refs", "refs/pull/*/head"}
	return startDaemon(e.t, append(base, args...)...)
}

func (e *previewEnv) deletePreviewNamespaces() {
	ctx := context.Background()
	list, _ := e.cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: "tether.dev/preview-of=" + e.ns})
	for _, n := range list.Items {
		_ = e.cs.CoreV1().Namespaces().Delete(ctx, n.Name, metav1.DeleteOptions{})
	}
}

// objects lists "Kind/name" of the Deployments, Services and Jobs in ns.
func (e *previewEnv) objects(ns string) []string {
	ctx := context.Background()
	var out []string
	deps, err1 := e.cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	svcs, err2 := e.cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	jobs, err3 := e.cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err1 != nil || err2 != nil || err3 != nil {
		e.t.Fatal(err1, err2, err3)
	}
	for _, d := range deps.Items {
		out = append(out, "Deployment/"+d.Name)
	}
	for _, s := range svcs.Items {
		out = append(out, "Service/"+s.Name)
	}
	for _, j := range jobs.Items {
		out = append(out, "Job/"+j.Name)
	}
	slices.Sort(out)
	return out
}

// gone reports whether namespace ns is deleted or being deleted.
func (e *previewEnv) gone(ns string) bool {
	n, err := e.cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
	return apierrors.IsNotFound(err) || (err == nil && n.DeletionTimestamp != nil)
}

// previews reads the previews in /status.
func previews(t *testing.T, d *daemon) []preview.Status {
	t.Helper()
	resp, err := http.Get("http://" + d.addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Previews []preview.Status `json:"previews"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Previews
}

// TestPreviewEnvironments: a pull request's ref gets its models' serving
// objects in <namespace>-pr-<id>, free of drift, follows the ref and is
// torn down with it,
// with the tracked branch's settings whatever the pull request's tether.yaml
// says, reported in /status and to Slack.
func TestPreviewEnvironments(t *testing.T) {
	e := newPreviewEnv(t, "preview: {training: false, maxGPUs: 0}\n")
	slack := slackrecv.New(t)
	urlFile := filepath.Join(t.TempDir(), "slack-url")
	if err := os.WriteFile(urlFile, []byte(slack.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := e.start("--slack-webhook-url-file", urlFile)
	eventually(t, 30*time.Second, "the tracked branch applied", func() (bool, error) {
		return len(e.objects(e.ns)) == 3, nil
	})

	ns := e.ns + "-pr-7"
	head := e.repo.PullRequest(7, e.main, map[string]string{
		"models/b/model.yaml": modelSpec("b"),
		// The pull request tries to lift its own limits: ignored.
		"tether.yaml": "preview: {training: true, maxGPUs: 8}\ndefaultNamespace: elsewhere\n",
	})
	want := []string{"Deployment/a", "Deployment/b", "Service/a", "Service/b"}
	eventually(t, 30*time.Second, "preview 7 deployed, serving only", func() (bool, error) {
		return slices.Equal(e.objects(ns), want), nil
	})
	dep, err := e.cs.AppsV1().Deployments(ns).Get(context.Background(), "b", metav1.GetOptions{})
	if err != nil || *dep.Spec.Replicas != 1 || dep.Labels["tether.dev/preview"] != "7" {
		t.Errorf("Deployment %s/b: %v; want 1 replica and label tether.dev/preview=7", ns, err)
	}
	quota, err := e.cs.CoreV1().ResourceQuotas(ns).Get(context.Background(), "tether-preview", metav1.GetOptions{})
	if err != nil || quota.Spec.Hard.Name("requests.nvidia.com/gpu", "").Value() != 0 {
		t.Errorf("ResourceQuota %s/tether-preview: %v, %v; want 0 GPUs, the tracked branch's maxGPUs", ns, quota.Spec.Hard, err)
	}
	if got := e.objects(e.ns); len(got) != 3 {
		t.Errorf("the tracked branch's namespace changed: %v", got)
	}
	patch(t, e.cs, ns, "b", `{"spec":{"replicas":4}}`)
	eventually(t, 10*time.Second, "the preview's drift reverted", func() (bool, error) {
		dep, err := e.cs.AppsV1().Deployments(ns).Get(context.Background(), "b", metav1.GetOptions{})
		return err == nil && *dep.Spec.Replicas == 1, err
	})
	eventually(t, 10*time.Second, "/status lists the preview", func() (bool, error) {
		p := previews(t, d)
		return len(p) == 1 && p[0].Ref == "refs/pull/7/head" && p[0].Head == head && slices.Equal(p[0].Namespaces, []string{ns}) &&
			p[0].State != "" && p[0].Expires.After(time.Now()), nil
	})

	e.repo.Git("checkout", "-q", "pr7")
	moved := e.repo.Commit(map[string]string{"models/b/model.yaml": ""})
	e.repo.Git("update-ref", "refs/pull/7/head", moved)
	e.repo.Git("checkout", "-q", "main")
	eventually(t, 30*time.Second, "the preview follows its ref", func() (bool, error) {
		return slices.Equal(e.objects(ns), []string{"Deployment/a", "Service/a"}), nil
	})

	e.repo.Git("update-ref", "-d", "refs/pull/7/head")
	eventually(t, 30*time.Second, "the preview torn down", func() (bool, error) {
		return e.gone(ns) && len(previews(t, d)) == 0, nil
	})
	eventually(t, 10*time.Second, "Slack told of the preview's creation and deletion", func() (bool, error) {
		return len(messagesWith(slack, "Preview 7 created* for `refs/pull/7/head` at `"+head[:12]+"` in `"+ns+"`")) == 1 &&
			len(messagesWith(slack, "Preview 7 deleted* (`refs/pull/7/head`)", "its ref is gone")) == 1, nil
	})
	if got := e.objects(e.ns); len(got) != 3 {
		t.Errorf("the tracked branch's namespace changed: %v", got)
	}
}

// TestPreviewCapRestartTTL: --preview-max keeps the lowest ids and reports
// the rest; a preview whose ref was deleted while tether was down is found
// and torn down after the restart; --preview-ttl tears down previews whose
// heads stopped moving (and old heads get none: see reconcile/preview).
func TestPreviewCapRestartTTL(t *testing.T) {
	e := newPreviewEnv(t, "")
	for _, n := range []int{3, 7, 9} {
		e.repo.PullRequest(n, e.main, map[string]string{"models/b/model.yaml": modelSpec("b")})
	}
	d := e.start("--preview-max", "2")
	eventually(t, 30*time.Second, "previews 3 and 7 deployed", func() (bool, error) {
		return len(e.objects(e.ns+"-pr-3")) == 4 && len(e.objects(e.ns+"-pr-7")) == 4, nil
	})
	eventually(t, 10*time.Second, "ref 9 reported as left out", func() (bool, error) {
		left := d.find("preview refs left out", nil)
		p := previews(t, d)
		return len(left) == 1 && len(p) == 3 && p[2].ID == "9" && p[2].State == preview.StateLeftOut, nil
	})
	if !e.gone(e.ns + "-pr-9") {
		t.Error("ref 9 got a preview over --preview-max 2")
	}

	d.stop(t)
	e.repo.Git("update-ref", "-d", "refs/pull/3/head")
	d = e.start("--preview-max", "2")
	eventually(t, 30*time.Second, "preview 3 torn down after the restart, 9 takes its place", func() (bool, error) {
		return e.gone(e.ns+"-pr-3") && len(e.objects(e.ns+"-pr-9")) == 4, nil
	})
	if len(e.objects(e.ns+"-pr-7")) != 4 {
		t.Error("preview 7 did not survive the restart")
	}
	if deleted := d.find("preview deleted", map[string]string{"preview": "3"}); len(deleted) != 1 {
		t.Errorf("preview 3's deletion logged %d times, want once", len(deleted))
	}
	d.stop(t)

	for _, n := range []int{7, 9} {
		e.repo.PullRequest(n, e.main, map[string]string{"models/c/model.yaml": modelSpec("c")})
	}
	d = e.start("--preview-max", "2", "--preview-ttl", "20s")
	eventually(t, 30*time.Second, "previews 7 and 9 at their new heads", func() (bool, error) {
		return slices.Contains(e.objects(e.ns+"-pr-7"), "Deployment/c") && slices.Contains(e.objects(e.ns+"-pr-9"), "Deployment/c"), nil
	})
	eventually(t, 60*time.Second, "both previews expired without a new commit", func() (bool, error) {
		return e.gone(e.ns+"-pr-7") && e.gone(e.ns+"-pr-9") && len(previews(t, d)) == 0, nil
	})
	expired := d.find("preview deleted", map[string]string{"preview": "9", "reason": "no new commit on refs/pull/9/head for 20s"})
	if len(expired) != 1 {
		t.Errorf("preview 9's expiry logged %d times, want once", len(expired))
	}
}
