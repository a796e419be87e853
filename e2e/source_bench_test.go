package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
)

const (
	benchModels = 1000
	benchPushes = 50
	benchImage  = "registry.example.com/bench@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

// BenchmarkPushToApplied measures push → applied with the webhook: a
// 1000-model repository (one CronJob each), one model changed per push, the
// time from the signed webhook to the changed CronJob carrying the new
// revision, as seen by a watch. The poll interval is 1h, so only the webhook
// brings commits in.
//
//	go test ./e2e/ -run '^$' -bench PushToApplied -benchtime 1x -v
func BenchmarkPushToApplied(b *testing.B) {
	cs, err := kubernetes.NewForConfig(cluster.Shared().Config)
	if err != nil {
		b.Fatal(err)
	}
	ns := benchNamespace(b, cs)
	repo := gitrepo.New(b)
	files := map[string]string{}
	for i := range benchModels {
		files[benchModelPath(i)] = benchModel(i, 0)
	}
	repo.Commit(files)
	server := gitrepo.Serve(b, repo.Dir)
	hookFile := writeBenchSecret(b)
	d := startBenchDaemon(b, "--repo", server.URL, "--webhook-secret-file", hookFile, "--interval", "1h", "--default-namespace", ns)
	watch := watchRevisions(b, cs, ns)
	waitFor(b, 5*time.Minute, "first revision reconciled", func() bool { return len(d.find("revision reconciled", nil)) > 0 })
	if n := watch.count(); n != benchModels {
		b.Fatalf("%d CronJobs after the first revision, want %d", n, benchModels)
	}

	for n := range b.N {
		var took []time.Duration
		for i := range benchPushes {
			model := (i * 37) % benchModels
			head := repo.Commit(map[string]string{benchModelPath(model): benchModel(model, n*benchPushes+i+1)})
			start := time.Now()
			postBenchHook(b, d.addr)
			name := fmt.Sprintf("m-%04d-train", model)
			waitFor(b, 10*time.Second, "push applied", func() bool { return watch.has(name, head) })
			took = append(took, watch.at(name, head).Sub(start))
		}
		slices.Sort(took)
		b.ReportMetric(took[len(took)/2].Seconds(), "p50-s")
		b.ReportMetric(took[(len(took)*99+99)/100-1].Seconds(), "p99-s")
		b.ReportMetric(took[len(took)-1].Seconds(), "max-s")
		b.Logf("push → applied: %v", took)
		var passes []string
		for _, l := range d.find("revision reconciled", nil) {
			passes = append(passes, fmt.Sprint(l["duration"]))
		}
		b.Logf("loop passes (fetch → render → apply → prune → record → health): %v", passes)
	}
}

func benchModelPath(i int) string { return fmt.Sprintf("models/m-%04d/model.yaml", i) }

func benchModel(i, run int) string {
	return fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
metadata:
  name: m-%04d
spec:
  image: %s
  training:
    command: [python, train.py]
    env: {RUN: "%d"}
    schedule: "0 3 * * 0"
`, i, benchImage, run)
}

// revisions records when each CronJob was first seen carrying each revision.
type revisions struct {
	mu   sync.Mutex
	seen map[string]time.Time // name@revision
	objs map[string]bool
}

func watchRevisions(b *testing.B, cs kubernetes.Interface, ns string) *revisions {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	w, err := cs.BatchV1().CronJobs(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	r := &revisions{seen: map[string]time.Time{}, objs: map[string]bool{}}
	go func() {
		for ev := range w.ResultChan() {
			cj, ok := ev.Object.(*batchv1.CronJob)
			if !ok {
				continue
			}
			now := time.Now()
			key := cj.Name + "@" + cj.Annotations["tether.dev/revision"]
			r.mu.Lock()
			if _, ok := r.seen[key]; !ok {
				r.seen[key] = now
			}
			r.objs[cj.Name] = true
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *revisions) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.objs) }

func (r *revisions) has(name, rev string) bool { return !r.at(name, rev).IsZero() }

func (r *revisions) at(name, rev string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[name+"@"+rev]
}

func waitFor(b *testing.B, timeout time.Duration, what string, cond func() bool) {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("%s: not true after %s", what, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func benchNamespace(b *testing.B, cs kubernetes.Interface) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-push-"}}
	created, err := cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), created.Name, metav1.DeleteOptions{})
	})
	return created.Name
}

func writeBenchSecret(b *testing.B) string {
	name := b.TempDir() + "/webhook"
	if err := writeFileB(name, webhookSecret); err != nil {
		b.Fatal(err)
	}
	return name
}

// startBenchDaemon runs tether like startDaemon and waits until it logged its
// listen address.
func startBenchDaemon(b *testing.B, args ...string) *daemon { return startDaemon(b, args...) }

func postBenchHook(b *testing.B, addr string) {
	body := `{"ref":"refs/heads/main"}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/hooks/git", strings.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", hmacSHA256(webhookSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b.Fatalf("webhook answered %d", resp.StatusCode)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func writeFileB(name, content string) error { return os.WriteFile(name, []byte(content), 0o600) }
