package preview_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/preview"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// TestMain starts one local control plane for the package.
func TestMain(m *testing.M) { os.Exit(cluster.RunMain(m)) }

const image = "registry.example.com/m@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// spec is a model that trains and serves.
func spec(name string) string {
	return fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: %s}
spec:
  image: %s
  training: {command: [train]}
  serving: {port: 8080, replicas: 3}
`, name, image)
}

// env is a Manager against the shared cluster and a throwaway repository.
type env struct {
	t      *testing.T
	cs     kubernetes.Interface
	ns     string // the models' namespace and the inventory's
	remote *gitrepo.Repo
	main   string // the tracked branch's head
	keys   string // trusted keys file: with it, preview heads must be signed

	mu     sync.Mutex
	events []reconcile.Event
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(cluster.Shared().Config)
	ns := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cs: cs, ns: ns, remote: gitrepo.New(t)}
	t.Cleanup(func() { e.deleteNamespaces(ns) })
	e.main = e.remote.Commit(map[string]string{"models/a/model.yaml": spec("a")})
	return e
}

// deleteNamespaces removes the test's namespace and every preview namespace.
func (e *env) deleteNamespaces(ns string) {
	ctx := context.Background()
	_ = e.cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	list, _ := e.cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: render.LabelPreviewOf + "=" + ns})
	for _, n := range list.Items {
		_ = e.cs.CoreV1().Namespaces().Delete(ctx, n.Name, metav1.DeleteOptions{})
	}
}

// start runs a Manager until the returned function stops it.
func (e *env) start(max int, ttl time.Duration) (*preview.Manager, func()) {
	e.t.Helper()
	applier, err := reconcile.NewApplier(cluster.Shared().Config)
	if err != nil {
		e.t.Fatal(err)
	}
	work := e.t.TempDir()
	opts := source.Options{URL: e.remote.Dir, WorkDir: work, VerifyCommits: e.keys != "", TrustedKeysFile: e.keys}
	refs, err := source.NewRefSet(opts, []string{"refs/pull/*/head"})
	if err != nil {
		e.t.Fatal(err)
	}
	m := preview.New(preview.Config{
		Refs: refs, Applier: applier, InventoryNamespace: e.ns, Instance: e.ns,
		Flags: render.Options{DefaultNamespace: e.ns, DefaultDrift: render.DriftRevert},
		Max:   max, TTL: ttl, Interval: 100 * time.Millisecond, WorkDir: work,
		Log:    slog.New(slog.NewTextHandler(testWriter{e.t}, nil)),
		Events: e.record,
	})
	m.SetSettings(render.Settings{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	stop := func() {
		cancel()
		<-done
	}
	e.t.Cleanup(stop)
	return m, stop
}

func (e *env) record(ev reconcile.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
}

// eventsOf lists "id: message" of the events of type typ.
func (e *env) eventsOf(typ reconcile.EventType) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		if ev.Type == typ && ev.Preview != nil {
			out = append(out, ev.Preview.ID+": "+ev.Message)
		}
	}
	return out
}

// deployments lists the Deployments in ns; nil when ns does not exist.
func (e *env) deployments(ns string) []string {
	list, err := e.cs.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, d := range list.Items {
		out = append(out, d.Name)
	}
	return out
}

// gone reports whether namespace ns is deleted or being deleted.
func (e *env) gone(ns string) bool {
	n, err := e.cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
	return apierrors.IsNotFound(err) || (err == nil && n.DeletionTimestamp != nil)
}

// records counts the inventory records of instance.
func (e *env) records(instance string) int {
	list, err := e.cs.CoreV1().ConfigMaps(e.ns).List(context.Background(), metav1.ListOptions{LabelSelector: reconcile.LabelInstance + "=" + instance})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list.Items)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not true after 60s", what)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
