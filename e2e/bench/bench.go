package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
)

type bench struct {
	o         options
	c         *cluster.Cluster
	cs        kubernetes.Interface
	work      string
	tether    string
	daemon    *daemon
	git       *gitrepo.Server // serves the generated repository to tether and Flux
	pprofAddr string          // the daemon's TETHER_DEBUG_PPROF, with -pprof
	fig       figures
	load      []float64 // 1-minute load average every 10 s of the run

	steadyRSS float64
}

func (b *bench) all(ctx context.Context) error {
	b.cs = kubernetes.NewForConfigOrDie(b.c.Config)
	repo, err := b.generate()
	if err != nil {
		return err
	}
	if b.git, err = gitrepo.Open(repo, gitrepo.ServeOptions{}); err != nil {
		return err
	}
	defer b.git.Stop()
	if _, err := b.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench-tether"}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	var steps []func(context.Context, string) error
	if b.o.kubectl {
		steps = append(steps, b.kubectlPhase)
	}
	if b.o.flux {
		steps = append(steps, b.fluxPhase)
	}
	steps = append(steps, b.coldApply)
	if b.o.steady > 0 {
		steps = append(steps, b.steadyState)
	}
	if b.o.trials > 0 {
		steps = append(steps, b.reverts)
	}
	if b.o.storm > 0 {
		steps = append(steps, b.stormPhase)
	}
	if b.o.pushes > 0 {
		steps = append(steps, b.pushes)
	}
	steps = append(steps, b.memory)
	defer func() {
		if b.daemon != nil {
			b.daemon.stop()
		}
	}()
	stopLoad := sample(10*time.Second, load1)
	if err := runSteps(ctx, repo, steps); err != nil {
		return err
	}
	b.load = stopLoad()
	b.summary()
	return nil
}

// runSteps runs the phases of a bench in order and stops at the first error.
func runSteps(ctx context.Context, repo string, steps []func(context.Context, string) error) error {
	for _, s := range steps {
		if err := s(ctx, repo); err != nil {
			return err
		}
	}
	return nil
}

// generate writes a models repository of b.o.models models, each rendering to a
// Job, a Deployment, a Service and an HPA, and commits it.
func (b *bench) generate() (string, error) {
	repo := filepath.Join(b.work, "models")
	for i := range b.o.models {
		dir := filepath.Join(repo, "models", fmt.Sprintf("m%04d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, "model.yaml"), []byte(modelYAML(i)), 0o644); err != nil {
			return "", err
		}
	}
	if b.o.flux {
		if err := b.generateFlux(repo); err != nil {
			return "", err
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=bench", "-c", "user.email=bench@tether.dev", "commit", "-qm", "models"}} {
		if err := git(repo, args...); err != nil {
			return "", err
		}
	}
	return repo, nil
}

// generateFlux writes flux/<model>/: the objects tether renders for namespace
// bench-flux, as plain manifests, since Flux does not read model.yaml.
func (b *bench) generateFlux(repo string) error {
	objs, err := b.render(repo, fluxNamespace)
	if err != nil {
		return err
	}
	byModel := map[string][]rendered{}
	for _, o := range objs {
		byModel[o.Model] = append(byModel[o.Model], o)
	}
	for model, objs := range byModel {
		if err := writeFluxFolder(repo, model, objs); err != nil {
			return err
		}
	}
	return nil
}

func modelYAML(i int) string {
	return fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: m%04d, labels: {team: bench}}
spec:
  image: registry.example.com/m%04d@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  modelURI: s3://models/m%04d/v1
  training: {command: [python, train.py], dataset: "s3://data/%04d"}
  serving:
    port: 8080
    autoscaling: {minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 70}
    resources: {cpu: 100m, memory: 128Mi}
`, i, i, i, i)
}

// kubectlPhase applies the objects with kubectl --server-side, on a control
// plane of its own.
func (b *bench) kubectlPhase(ctx context.Context, repo string) error {
	wall, req, err := b.kubectlApply(ctx, repo)
	if err != nil {
		return err
	}
	objects := 4 * b.o.models
	fmt.Printf("## kubectl: cold apply of %d objects\n", objects)
	fmt.Printf("kubectl apply --server-side: %6.1f s wall, %5d requests, %.2f requests/object\n\n", wall.Seconds(), req, float64(req)/float64(objects))
	b.fig.kubectl.coldWall, b.fig.kubectl.coldRequests = wall, req
	return nil
}

// coldApply starts tether and times its first pass, and until the bench's own
// watch has seen every object with the rendered image (Flux's criterion too).
func (b *bench) coldApply(ctx context.Context, repo string) error {
	objs, err := b.render(repo, benchNamespace)
	if err != nil {
		return err
	}
	w := watchObjects(ctx, b.cs, benchNamespace, objs)
	secret := filepath.Join(b.work, "webhook-secret")
	if err := os.WriteFile(secret, []byte(webhookSecret), 0o600); err != nil {
		return err
	}
	start := time.Now()
	env, err := b.pprofEnv()
	if err != nil {
		return err
	}
	b.daemon, err = startDaemon(b.tether, env, "--repo", b.git.URL, "--kubeconfig", b.c.Kubeconfig, "--default-namespace", benchNamespace,
		"--interval", b.o.interval.String(), "--listen", "127.0.0.1:0", "--log-format", "json", "--webhook-secret-file", secret)
	if err != nil {
		return err
	}
	stopPeak := b.watchPeak()
	line, err := b.daemon.waitFor("revision reconciled", 30*time.Minute)
	stopPeak()
	if err != nil {
		return err
	}
	wall := time.Since(start)
	seenAll, err := w.wait(5 * time.Minute)
	if err != nil {
		return err
	}
	req, err := b.daemon.requests()
	if err != nil {
		return err
	}
	fmt.Printf("## cold apply of %d objects\n", len(objs))
	fmt.Printf("tether run (first pass):     %6.1f s wall (pass %s), %5d requests, %.2f requests/object  %v\n",
		wall.Seconds(), passDuration(line), total(req), float64(total(req))/float64(len(objs)), req)
	fmt.Printf("tether (start -> every object seen): %.1f s\n", seenAll.Sub(start).Seconds())
	b.fig.tether.coldWall, b.fig.tether.coldRequests = seenAll.Sub(start), total(req)
	if b.o.kubectl {
		fmt.Printf("ratio tether/kubectl wall: %.2f\n", b.fig.tether.coldWall.Seconds()/b.fig.kubectl.coldWall.Seconds())
	}
	if b.o.controllers {
		ready, err := b.daemon.waitReady(b.o.models, 15*time.Minute)
		if err != nil {
			return err
		}
		fmt.Printf("every model Ready in tether's /status %.1f s after the start (the cluster settled)\n", ready.Sub(start).Seconds())
	}
	fmt.Println()
	return nil
}

// kubectlApply renders the repository for namespace bench-kubectl and applies it
// with kubectl --server-side, counting its HTTP requests from -v=6 output. It
// gets a control plane of its own, stopped before tether starts, so neither
// tool's run contends with the controllers still reacting to the other's.
func (b *bench) kubectlApply(ctx context.Context, repo string) (time.Duration, int, error) {
	kc, err := b.ownControlPlane(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer kc.Stop()
	cs := kubernetes.NewForConfigOrDie(kc.Config)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench-kubectl"}}, metav1.CreateOptions{}); err != nil {
		return 0, 0, err
	}
	manifest := filepath.Join(b.work, "rendered.yaml")
	out, err := exec.Command(b.tether, "render", repo, "--default-namespace", "bench-kubectl").Output()
	if err != nil {
		return 0, 0, fmt.Errorf("tether render: %w", err)
	}
	if err := os.WriteFile(manifest, out, 0o644); err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(filepath.Join(b.c.BinDir, "kubectl"), "--kubeconfig", kc.Kubeconfig, "apply", "--server-side", "--field-manager", "kubectl-bench", "-f", manifest, "-v=6")
	var log strings.Builder
	cmd.Stderr = &log
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("kubectl apply: %v\n%s", err, tail(log.String()))
	}
	wall := time.Since(start)
	return wall, strings.Count(log.String(), `"Response"`), nil
}

// ownControlPlane starts a control plane like the main one, for one tool
// (kubectl, Flux) to run on alone. The caller stops it.
func (b *bench) ownControlPlane(ctx context.Context) (*cluster.Cluster, error) {
	c, err := cluster.Start(ctx, cluster.Options{BinDir: b.c.BinDir})
	if err != nil {
		return nil, err
	}
	if !b.o.controllers {
		if err := c.StopControllers(); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// passDuration reads the duration of a "revision reconciled" JSON log line.
func passDuration(line map[string]any) time.Duration {
	ns, _ := line["duration"].(float64)
	return time.Duration(ns).Round(100 * time.Millisecond)
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// daemon is a running tether with its JSON log lines.
type daemon struct {
	cmd   *exec.Cmd
	addr  string
	mu    sync.Mutex
	lines []map[string]any
	seen  chan struct{}
}

func startDaemon(bin string, env []string, args ...string) (*daemon, error) {
	d := &daemon{cmd: exec.Command(bin, append([]string{"run"}, args...)...), seen: make(chan struct{}, 1)}
	d.cmd.Env = append(os.Environ(), env...)
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go d.read(stderr)
	line, err := d.waitFor("tether started", 30*time.Second)
	if err != nil {
		return nil, err
	}
	d.addr = fmt.Sprint(line["listen"])
	return d, nil
}

func (d *daemon) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		d.mu.Lock()
		d.lines = append(d.lines, line)
		d.mu.Unlock()
		select {
		case d.seen <- struct{}{}:
		default:
		}
	}
}

func (d *daemon) waitFor(msg string, timeout time.Duration) (map[string]any, error) {
	deadline := time.After(timeout)
	for {
		d.mu.Lock()
		for _, l := range d.lines {
			if l["msg"] == msg {
				d.mu.Unlock()
				return l, nil
			}
		}
		d.mu.Unlock()
		select {
		case <-d.seen:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			return nil, fmt.Errorf("tether did not log %q within %s", msg, timeout)
		}
	}
}

// requests scrapes tether_api_requests_total by verb from /metrics.
func (d *daemon) requests() (map[string]int, error) {
	lines, err := d.metrics()
	out := map[string]int{}
	for _, line := range lines {
		var verb string
		var n float64
		if _, err := fmt.Sscanf(line, `tether_api_requests_total{verb=%q} %g`, &verb, &n); err == nil {
			out[verb] = int(n)
		}
	}
	return out, err
}

// metrics returns the lines of the daemon's /metrics.
func (d *daemon) metrics() ([]string, error) {
	resp, err := http.Get("http://" + d.addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// waitReady polls /status until n models are Ready and returns when they were.
func (d *daemon) waitReady(n int, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + d.addr + "/status")
		if err != nil {
			return time.Time{}, err
		}
		var st struct {
			Models []struct{ State string } `json:"models"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			return time.Time{}, err
		}
		ready := 0
		for _, m := range st.Models {
			if m.State == "Ready" {
				ready++
			}
		}
		if ready == n {
			return time.Now(), nil
		}
		time.Sleep(time.Second)
	}
	return time.Time{}, fmt.Errorf("not all %d models Ready in /status within %s", n, timeout)
}

// metric scrapes one unlabelled sample from /metrics.
func (d *daemon) metric(name string) (float64, error) {
	lines, err := d.metrics()
	if err != nil {
		return 0, err
	}
	for _, line := range lines {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			_, err := fmt.Sscanf(v, "%g", &f)
			return f, err
		}
	}
	return 0, fmt.Errorf("/metrics has no %s", name)
}

func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(os.Interrupt)
	_ = d.cmd.Wait()
}
