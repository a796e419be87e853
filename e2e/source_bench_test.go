package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/benchgen"
	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
)

const (
	benchModels = 1000
	benchPushes = 50
	benchImage  = "registry.example.com/bench@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

// BenchmarkPushToApplied measures push → applied with the webhook on a
// 1000-model repository, one model changed per push: the time from the
// signed webhook to the changed object carrying the new revision, as seen by
// a watch. The poll interval is 1h, so only the webhook brings commits in.
//
//   - cronjobs: one CronJob per model (nothing in the cluster reacts to it);
//   - overlays: e2e/benchgen's models, every one with a kustomize overlay
//     (about 4 objects each); the Deployment of the changed model is watched.
//     The controllers are stopped first, so the cluster does not spend the
//     machine on 2000 pods while tether is measured.
//
// With TETHER_BENCH_BASELINE naming another tether binary (e.g. one built
// from main), the overlays case runs it too, on its own repository and
// namespace, a push to it after every fifth push to the binary under test:
// both figures come from the same run.
//
//	go test ./e2e/ -run '^$' -bench PushToApplied -benchtime 1x -v
func BenchmarkPushToApplied(b *testing.B) {
	b.Run("cronjobs", func(b *testing.B) { measurePushes(b, cronJobModels) })
	b.Run("overlays", func(b *testing.B) {
		if err := cluster.Shared().StopControllers(); err != nil {
			b.Fatal(err)
		}
		measurePushes(b, overlayModels)
	})
}

// pushModels is the repository a push benchmark runs on.
type pushModels struct {
	kind  string           // the kind watched for the new revision
	write func(dir string) // writes the first revision's files
	model func(i, run int) (path, content, object string)
}

var cronJobModels = pushModels{
	kind: "CronJob",
	write: func(dir string) {
		for i := range benchModels {
			_ = writeBenchFile(dir, benchModelPath(i), benchModel(i, 0))
		}
	},
	model: func(i, run int) (string, string, string) {
		return benchModelPath(i), benchModel(i, run), fmt.Sprintf("m-%04d-train", i)
	},
}

var overlayModels = pushModels{
	kind:  "Deployment",
	write: func(dir string) { _ = benchgen.Repo(dir, benchModels, 1) },
	model: func(i, run int) (string, string, string) {
		return benchgen.ModelFile(i), benchgen.Model(i, run+1), benchgen.Name(i)
	},
}

// pushTarget is one daemon under measurement, with its repository.
type pushTarget struct {
	name  string
	repo  *gitrepo.Repo
	d     *daemon
	watch *revisions
	took  []time.Duration
}

func measurePushes(b *testing.B, models pushModels) {
	cs, err := kubernetes.NewForConfig(cluster.Shared().Config)
	if err != nil {
		b.Fatal(err)
	}
	targets := []*pushTarget{startPushTarget(b, cs, models, "tether", tetherBin)}
	if base := os.Getenv("TETHER_BENCH_BASELINE"); base != "" && models.kind == "Deployment" {
		targets = append(targets, startPushTarget(b, cs, models, "baseline", base))
	}
	for n := range b.N {
		for i := range benchPushes {
			model := (i * 37) % benchModels
			for j, t := range targets {
				if j == 0 || i%5 == 0 {
					t.push(b, models, model, n*benchPushes+i+1)
				}
			}
		}
		for _, t := range targets {
			t.report(b)
		}
	}
}

func startPushTarget(b *testing.B, cs kubernetes.Interface, models pushModels, name, bin string) *pushTarget {
	ns := benchNamespace(b, cs)
	repo := gitrepo.New(b)
	models.write(repo.Dir)
	repo.Git("add", "-A")
	repo.Git("commit", "-qm", "models")
	server := gitrepo.Serve(b, repo.Dir)
	hookFile := writeBenchSecret(b)
	d := startBenchDaemon(b, bin, "--repo", server.URL, "--webhook-secret-file", hookFile, "--interval", "1h", "--default-namespace", ns)
	watch := watchRevisions(b, cs, ns, models.kind)
	waitFor(b, 10*time.Minute, name+": first revision reconciled", func() bool { return len(d.find("revision reconciled", nil)) > 0 })
	if n := watch.count(); n != benchModels {
		b.Fatalf("%s: %d %ss after the first revision, want %d", name, n, models.kind, benchModels)
	}
	return &pushTarget{name: name, repo: repo, d: d, watch: watch}
}

// push commits run of model and waits until its object carries the commit.
func (t *pushTarget) push(b *testing.B, models pushModels, model, run int) {
	file, content, object := models.model(model, run)
	head := t.repo.Commit(map[string]string{file: content})
	start := time.Now()
	postBenchHook(b, t.d.addr)
	waitFor(b, time.Minute, t.name+": push applied", func() bool { return t.watch.has(object, head) })
	t.took = append(t.took, t.watch.at(object, head).Sub(start))
}

func (t *pushTarget) report(b *testing.B) {
	took := slices.Sorted(slices.Values(t.took))
	prefix := ""
	if t.name != "tether" {
		prefix = t.name + "-"
	}
	b.ReportMetric(took[len(took)/2].Seconds(), prefix+"p50-s")
	b.ReportMetric(took[(len(took)*99+99)/100-1].Seconds(), prefix+"p99-s")
	b.ReportMetric(took[len(took)-1].Seconds(), prefix+"max-s")
	b.Logf("%s: push → applied: %v", t.name, t.took)
	var passes []string
	for _, l := range t.d.find("revision reconciled", nil) {
		if ns, ok := l["duration"].(float64); ok { // JSON logs carry durations in nanoseconds
			passes = append(passes, time.Duration(ns).Round(time.Millisecond).String())
		} else {
			passes = append(passes, fmt.Sprint(l["duration"]))
		}
	}
	b.Logf("%s: loop passes (fetch → render → apply → prune → record → health): %v", t.name, passes)
	t.took = nil
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

func watchRevisions(b *testing.B, cs kubernetes.Interface, ns, kind string) *revisions {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	var w watch.Interface
	var err error
	if kind == "CronJob" {
		w, err = cs.BatchV1().CronJobs(ns).Watch(ctx, metav1.ListOptions{})
	} else {
		w, err = cs.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{})
	}
	if err != nil {
		b.Fatal(err)
	}
	r := &revisions{seen: map[string]time.Time{}, objs: map[string]bool{}}
	go func() {
		for ev := range w.ResultChan() {
			obj, err := meta.Accessor(ev.Object)
			if err != nil {
				continue
			}
			now := time.Now()
			key := obj.GetName() + "@" + obj.GetAnnotations()["tether.dev/revision"]
			r.mu.Lock()
			if _, ok := r.seen[key]; !ok {
				r.seen[key] = now
			}
			r.objs[obj.GetName()] = true
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

// startBenchDaemon runs tether like startDaemon (which needs a *testing.T)
// and waits until it logged its listen address.
func startBenchDaemon(b *testing.B, bin string, args ...string) *daemon {
	base := []string{"run", "--kubeconfig", cluster.Shared().Kubeconfig, "--listen", "127.0.0.1:0", "--log-format", "json"}
	d := &daemon{cmd: exec.Command(bin, append(base, args...)...)}
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	started := make(chan string, 1)
	go d.readLogs(stderr, started)
	b.Cleanup(func() {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		_ = d.cmd.Wait()
		if b.Failed() {
			lines := strings.Split(d.logs(), "\n")
			b.Logf("tether logs (last 40 lines):\n%s", strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	select {
	case d.addr = <-started:
	case <-time.After(15 * time.Second):
		b.Fatalf("tether did not start:\n%s", d.logs())
	}
	return d
}

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

func writeBenchFile(dir, name, content string) error {
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}
