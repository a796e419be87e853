package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// fakeSource hands the loop whatever revision the test sets: Git is not what
// these tests exercise.
type fakeSource struct {
	mu     sync.Mutex
	rev    string
	last   string                   // the revision the last Sync returned
	commit map[string]source.Commit // optional: the commit of each revision
}

// Sync reports changed only when the revision moved, as source.Repo does.
func (s *fakeSource) Sync(context.Context) (source.Snapshot, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := s.rev != s.last
	s.last = s.rev
	return source.Snapshot{Revision: s.rev, Commit: s.commit[s.rev]}, changed, nil
}

// fixture is a Loop against the shared cluster, in a namespace of its own.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	ns       string
	cs       kubernetes.Interface
	src      *fakeSource
	res      *render.Result
	loop     *Loop
	metrics  *Metrics
	mu       sync.Mutex
	events   []Event
	maxPrune PruneLimit
	instance string
	leader   Leader             // nil: a single replica
	group    string             // the shards' group; "" is instance
	startup  map[string]int     // requests by verb the current loop made while starting
	stop     context.CancelFunc // stops the current loop's watches and worker
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cs := kubernetes.NewForConfigOrDie(cluster.Shared().Config)
	ns := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(ns) > 50 {
		ns = ns[:50]
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	f := &fixture{t: t, ctx: ctx, ns: ns, cs: cs, src: &fakeSource{}, maxPrune: PruneLimit{Percent: 50}, instance: "test"}
	f.start()
	return f
}

// start builds a fresh Loop, as a restarted daemon would, and reads the inventory.
func (f *fixture) start() {
	f.t.Helper()
	f.startAs(rest.CopyConfig(cluster.Shared().Config))
}

// startAs starts the loop with the client settings cfg (an impersonated user).
func (f *fixture) startAs(cfg *rest.Config) {
	f.t.Helper()
	f.metrics = NewMetrics(nil)
	cfg.Wrap(f.metrics.CountRequests)
	applier, err := NewApplier(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.loop = NewLoop(Config{
		Source: f.src, Applier: applier, Inventory: NewInventory(applier, f.ns, f.instance).InGroup(f.group),
		Render:   func(source.Snapshot, render.Hooks) (*render.Result, error) { return f.res, nil },
		Interval: time.Second, Prune: true, MaxPrune: f.maxPrune,
		Leader:  f.leader,
		Log:     slog.New(slog.NewTextHandler(testWriter{f.t}, nil)),
		Events:  f.record,
		Metrics: f.metrics,
	})
	if f.stop != nil {
		f.stop() // the previous daemon is gone: its worker must not revert anything
	}
	ctx, cancel := context.WithCancel(f.ctx)
	f.stop = cancel
	f.t.Cleanup(cancel)
	f.loop.watcher.start(ctx)
	f.loop.watchRecords(ctx)
	if err := f.loop.loadRecords(ctx); err != nil {
		f.t.Fatal(err)
	}
	f.startup = map[string]int{}
	for _, verb := range []string{"get", "list", "post", "apply", "watch"} {
		f.startup[verb] = int(testutil.ToFloat64(f.metrics.apiRequests.WithLabelValues(verb)))
	}
	for range driftWorkers {
		go f.loop.runDriftWorker(ctx)
	}
	go f.loop.resyncEvery(ctx)
}

func (f *fixture) record(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
}

func (f *fixture) eventsOf(t EventType) []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Event
	for _, ev := range f.events {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}

// pass runs one loop pass of revision rev rendering units.
func (f *fixture) pass(rev string, res *render.Result) {
	f.t.Helper()
	f.src.mu.Lock()
	f.src.rev = rev
	f.src.mu.Unlock()
	f.res = res
	f.loop.cycle(f.ctx)
}

// models renders model specs (folder name → model.yaml) into a Result, the way
// the daemon would from a checkout.
func (f *fixture) models(specs map[string]string) *render.Result {
	f.t.Helper()
	dir := f.t.TempDir()
	for name, spec := range specs {
		p := filepath.Join(dir, "models", name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			f.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "model.yaml"), []byte(spec), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
	res, err := render.Repository(dir, render.Options{DefaultNamespace: f.ns, DefaultDrift: render.DriftRevert})
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// requests returns how many API requests of verb the loop sent so far.
// Start-up (reading the inventory and its hash key) is not counted.
func (f *fixture) requests(verb string) int {
	return int(testutil.ToFloat64(f.metrics.apiRequests.WithLabelValues(verb))) - f.startup[verb]
}

// servingSpec is a serving-only model with the given image and replicas.
func servingSpec(name, image string, replicas int) string {
	return fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: %s}
spec:
  image: %s
  serving: {port: 8080, replicas: %d}
`, name, image, replicas)
}

// trainingSpec is a training-only model whose dataset picks the run.
func trainingSpec(name, dataset string, keepRuns int) string {
	return fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: %s}
spec:
  image: registry.example.com/%s:v1
  training: {command: [python, train.py], dataset: %q, keepRuns: %d}
`, name, name, dataset, keepRuns)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: not true after %s", what, timeout)
}
