package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/e2e/tetherproc"
)

// daemon is a running `tether run` whose JSON log lines are kept for assertions.
type daemon struct {
	*tetherproc.Process
	addr    string
	stopped bool
}

// startDaemon runs tether against the shared cluster with args appended and
// waits until it logged its listen address. It stops with the test (or
// benchmark), and its log is printed if that failed.
func startDaemon(t testing.TB, args ...string) *daemon {
	t.Helper()
	return startDaemonWith(t, tetherBin, args...)
}

// startDaemonWith is startDaemon with another tether binary (a baseline).
func startDaemonWith(t testing.TB, bin string, args ...string) *daemon {
	t.Helper()
	base := []string{"run", "--kubeconfig", cluster.Shared().Kubeconfig, "--listen", "127.0.0.1:0", "--log-format", "json"}
	p, err := tetherproc.Start(bin, append(base, args...), 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{Process: p, addr: p.Addr}
	t.Cleanup(func() { d.stop(t) })
	return d
}

// stop sends SIGTERM and logs the daemon's log if the test failed; stopping
// it again does nothing.
func (d *daemon) stop(t testing.TB) {
	if d.stopped {
		return
	}
	d.stopped = true
	if err := d.Stop(10 * time.Second); err != nil {
		t.Error(err)
	}
	if t.Failed() {
		t.Logf("tether logs:\n%s", d.logs())
	}
}

func (d *daemon) logs() string { return d.Logs() }

// find returns the log lines whose msg is msg and whose other keys match.
func (d *daemon) find(msg string, match map[string]string) []map[string]any {
	var out []map[string]any
	for _, l := range d.Find(0, msg, match) {
		out = append(out, l.Fields)
	}
	return out
}

func (d *daemon) get(t *testing.T, path string) int {
	t.Helper()
	code, _, err := d.Get(path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return code
}

// eventually polls cond every 50ms until it returns true or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) time.Duration {
	t.Helper()
	start := time.Now()
	var last error
	for time.Since(start) < timeout {
		ok, err := cond()
		if ok {
			return time.Since(start)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not true after %s (last error: %v)", what, timeout, last)
	return 0
}

func clientset(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cluster.Shared().Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// exampleRepo is a Git repository holding examples/models in one commit,
// whose hash it returns.
func exampleRepo(t *testing.T) (*gitrepo.Repo, string) {
	t.Helper()
	repo := gitrepo.New(t)
	repo.CopyTree("../examples/models")
	return repo, repo.Commit(nil)
}

// newNamespace creates a namespace for one test and deletes it afterwards.
func newNamespace(t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

// body GETs path and returns the answer's body.
func (d *daemon) body(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + d.addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
