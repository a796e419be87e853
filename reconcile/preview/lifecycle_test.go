package preview_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/preview"
	"github.com/tether-ml/tether/render"
)

// TestPreviewLifecycle: a pull request's ref gets its preview (serving only,
// one replica, a quota, records of its own), follows the ref, and is torn
// down through its inventory when the ref goes; the tracked branch's
// namespace is never touched.
func TestPreviewLifecycle(t *testing.T) {
	e := newEnv(t)
	ns := e.ns + "-pr-7"
	head := e.remote.PullRequest(7, e.main, map[string]string{"models/b/model.yaml": spec("b")})
	m, _ := e.start(5, 72*time.Hour)

	eventually(t, "preview 7 deployed", func() bool { return len(e.deployments(ns)) == 2 })
	dep, err := e.cs.AppsV1().Deployments(ns).Get(context.Background(), "b", metav1.GetOptions{})
	if err != nil || *dep.Spec.Replicas != 1 || dep.Labels["tether.dev/preview"] != "7" {
		t.Errorf("Deployment b: %v, replicas %v, labels %v; want 1 replica and the preview label", err, dep.Spec.Replicas, dep.Labels)
	}
	jobs, _ := e.cs.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{})
	quota, qerr := e.cs.CoreV1().ResourceQuotas(ns).Get(context.Background(), "tether-preview", metav1.GetOptions{})
	if len(jobs.Items) != 0 || qerr != nil || quota.Spec.Hard.Name("requests.nvidia.com/gpu", "").Value() != 0 {
		t.Errorf("preview: %d Jobs, quota %v (%v); want no training and a quota of 0 GPUs", len(jobs.Items), quota.Spec.Hard, qerr)
	}
	if n := e.records(e.ns + "-pr-7"); n != 3 || e.records(e.ns) != 0 {
		t.Errorf("records: %d of the preview's instance, %d of the tracked one; want 3 (a, b, namespaces) and 0", n, e.records(e.ns))
	}
	if len(e.deployments(e.ns)) != 0 {
		t.Errorf("the tracked branch's namespace got %v", e.deployments(e.ns))
	}
	eventually(t, "status lists the preview", func() bool {
		st := m.Status()
		return len(st) == 1 && st[0].Head == head && slices.Equal(st[0].Namespaces, []string{ns}) && !st[0].Expires.IsZero()
	})

	m.SetSettings(render.Settings{Preview: render.Preview{Training: true}})
	eventually(t, "the tracked branch's new settings re-render the preview", func() bool {
		jobs, _ := e.cs.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{})
		return len(jobs.Items) == 2
	})
	m.SetSettings(render.Settings{})

	e.remote.Git("checkout", "-q", "pr7")
	moved := e.remote.Commit(map[string]string{"models/b/model.yaml": ""})
	e.remote.Git("update-ref", "refs/pull/7/head", moved)
	e.remote.Git("checkout", "-q", "main")
	// b's Job goes with b; a's stays as a finished run, as a model's runs do
	// when its training leaves the spec (keepRuns).
	eventually(t, "the preview follows its ref", func() bool {
		jobs, _ := e.cs.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "tether.dev/model=b"})
		return slices.Equal(e.deployments(ns), []string{"a"}) && len(jobs.Items) == 0
	})

	e.remote.Git("update-ref", "-d", "refs/pull/7/head")
	eventually(t, "the preview is torn down", func() bool {
		return len(m.Status()) == 0 && e.gone(ns) && e.records(e.ns+"-pr-7") == 0
	})
	if got := e.eventsOf(reconcile.EventPreviewCreated); len(got) != 1 || !strings.Contains(got[0], "refs/pull/7/head at "+head+" in "+ns) {
		t.Errorf("PreviewCreated events: %q", got)
	}
	if got := e.eventsOf(reconcile.EventPreviewDeleted); len(got) != 1 || got[0] != "7: its ref is gone" {
		t.Errorf("PreviewDeleted events: %q", got)
	}
	keys, _ := e.cs.CoreV1().Secrets(e.ns).List(context.Background(), metav1.ListOptions{LabelSelector: reconcile.LabelInstance + "=" + e.ns + "-pr-7"})
	if len(keys.Items) != 0 {
		t.Errorf("the preview's hash key is left: %d Secrets", len(keys.Items))
	}
}

// TestPreviewRestart: previews whose refs went while the daemon was down are
// found by their labels and records and torn down; the others continue
// without being announced again.
func TestPreviewRestart(t *testing.T) {
	e := newEnv(t)
	e.remote.PullRequest(1, e.main, map[string]string{"models/b/model.yaml": spec("b")})
	e.remote.PullRequest(2, e.main, map[string]string{"models/c/model.yaml": spec("c")})
	_, stop := e.start(5, 72*time.Hour)
	eventually(t, "previews 1 and 2 deployed", func() bool {
		return len(e.deployments(e.ns+"-pr-1")) == 2 && len(e.deployments(e.ns+"-pr-2")) == 2
	})
	stop()
	e.remote.Git("update-ref", "-d", "refs/pull/1/head")

	e.start(5, 72*time.Hour)
	eventually(t, "preview 1 torn down after the restart", func() bool { return e.gone(e.ns+"-pr-1") && e.records(e.ns+"-pr-1") == 0 })
	if len(e.deployments(e.ns+"-pr-2")) != 2 || e.gone(e.ns+"-pr-2") {
		t.Errorf("preview 2 did not survive the restart")
	}
	if got := e.eventsOf(reconcile.EventPreviewCreated); len(got) != 2 {
		t.Errorf("PreviewCreated events %q: want one per preview, none after the restart", got)
	}
}

// TestPreviewCapAndTTL: --preview-max keeps the lowest ids and reports the
// rest; a preview whose head does not move for the TTL goes, and a ref whose
// head is older than the TTL gets none.
func TestPreviewCapAndTTL(t *testing.T) {
	e := newEnv(t)
	for _, n := range []int{3, 12, 20} {
		e.remote.PullRequest(n, e.main, map[string]string{"models/a/model.yaml": spec("a")})
	}
	m, stop := e.start(2, 72*time.Hour)
	eventually(t, "previews 3 and 12 deployed", func() bool {
		return len(e.deployments(e.ns+"-pr-3")) == 1 && len(e.deployments(e.ns+"-pr-12")) == 1
	})
	if got := e.eventsOf(reconcile.EventPreviewCapped); len(got) != 1 || !strings.Contains(got[0], "refs/pull/20/head (--preview-max 2") {
		t.Errorf("PreviewCapped events: %q", got)
	}
	var left []string
	for _, s := range m.Status() {
		if s.State == preview.StateLeftOut {
			left = append(left, s.ID)
		}
	}
	if !slices.Equal(left, []string{"20"}) {
		t.Errorf("left out in status: %v, want [20]", left)
	}
	stop()

	m, stop = e.start(2, 3*time.Second)
	eventually(t, "every preview expired", func() bool {
		return e.gone(e.ns+"-pr-3") && e.gone(e.ns+"-pr-12") && e.gone(e.ns+"-pr-20") && len(m.Status()) == 0
	})
	stop()
	created := len(e.eventsOf(reconcile.EventPreviewCreated))
	m, _ = e.start(2, 3*time.Second)
	time.Sleep(time.Second) // ten polls
	if got := e.eventsOf(reconcile.EventPreviewCreated); len(got) != created || len(m.Status()) != 0 {
		t.Errorf("refs older than the TTL got previews: %q, status %+v", got[created:], m.Status())
	}
}

// TestPreviewNamespaceNotOurs: a namespace named like a preview's but not
// labelled as this preview's is neither written nor deleted.
func TestPreviewNamespaceNotOurs(t *testing.T) {
	e := newEnv(t)
	ns := e.ns + "-pr-9"
	if _, err := e.cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.deleteNamespaces(ns) })
	e.remote.PullRequest(9, e.main, map[string]string{"models/b/model.yaml": spec("b")})
	m, _ := e.start(5, time.Hour)
	eventually(t, "preview 9 refused", func() bool {
		st := m.Status()
		return len(st) == 1 && strings.Contains(st[0].Message, "namespace "+ns+" exists and is not this preview's")
	})
	e.remote.Git("update-ref", "-d", "refs/pull/9/head")
	eventually(t, "preview 9 removed", func() bool { return len(m.Status()) == 0 })
	if e.gone(ns) || len(e.deployments(ns)) != 0 {
		t.Errorf("the foreign namespace %s was written or deleted", ns)
	}
}

// TestPreviewLabelledNamespaceNotOurs: a namespace that carries a preview's
// labels but was not applied by the preview's namespaces unit (no part-of
// label of it) is found at start, as a preview whose ref is gone, and is left
// in place and reported, not deleted (PRODUCT.md §2).
func TestPreviewLabelledNamespaceNotOurs(t *testing.T) {
	e := newEnv(t)
	ns := e.ns + "-pr-7"
	labels := map[string]string{render.LabelPreviewOf: e.ns, render.LabelPreview: "7"}
	if _, err := e.cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.deleteNamespaces(ns) })
	e.start(5, time.Hour)
	eventually(t, "the namespace reported as not tether's", func() bool { return len(e.eventsOf(reconcile.EventPruneSkipped)) > 0 })
	if e.gone(ns) {
		t.Errorf("namespace %s, labelled as preview 7's by someone else, was deleted", ns)
	}
}

// TestPreviewUnverifiedHead: with --verify-commits, a preview head that is
// not signed by a trusted key is not deployed, and /status says why; a
// signed head is.
func TestPreviewUnverifiedHead(t *testing.T) {
	e := newEnv(t)
	key := gitrepo.NewGPGKey(t, "ml@example.com")
	e.keys = filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(e.keys, []byte(key.Public), 0o600); err != nil {
		t.Fatal(err)
	}
	unsigned := e.remote.PullRequest(5, e.main, map[string]string{"models/b/model.yaml": spec("b")})
	m, _ := e.start(5, time.Hour)
	eventually(t, "the unsigned head refused", func() bool {
		st := m.Status()
		return len(st) == 1 && strings.Contains(st[0].Message, "verify "+unsigned+": commit not verified: unsigned")
	})
	if !e.gone(e.ns + "-pr-5") {
		t.Fatal("an unsigned preview head was deployed")
	}
	e.remote.SignWithGPG(key)
	e.remote.PullRequest(5, e.main, map[string]string{"models/b/model.yaml": spec("b"), "x": "signed"})
	eventually(t, "the signed head deployed", func() bool { return len(e.deployments(e.ns+"-pr-5")) == 2 })
}
