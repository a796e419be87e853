package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
)

// daemon is a running `tether run` whose JSON log lines are kept for assertions.
type daemon struct {
	cmd  *exec.Cmd
	addr string

	mu    sync.Mutex
	lines []map[string]any
	raw   bytes.Buffer
}

// startDaemon runs tether against the shared cluster with args appended and
// waits until it logged its listen address.
func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	base := []string{"run", "--kubeconfig", cluster.Shared().Kubeconfig, "--listen", "127.0.0.1:0", "--log-format", "json"}
	d := &daemon{cmd: exec.Command(tetherBin, append(base, args...)...)}
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan string, 1)
	go d.readLogs(stderr, started)
	t.Cleanup(func() { d.stop(t) })
	select {
	case d.addr = <-started:
	case <-time.After(15 * time.Second):
		t.Fatalf("tether did not start:\n%s", d.logs())
	}
	return d
}

func (d *daemon) readLogs(r io.Reader, started chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		_ = json.Unmarshal(sc.Bytes(), &line)
		d.mu.Lock()
		d.raw.Write(sc.Bytes())
		d.raw.WriteByte('\n')
		if line != nil {
			d.lines = append(d.lines, line)
		}
		d.mu.Unlock()
		if line["msg"] == "tether started" {
			started <- fmt.Sprint(line["listen"])
		}
	}
}

func (d *daemon) stop(t *testing.T) {
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		t.Errorf("tether did not stop within 10s of SIGTERM")
	}
	if t.Failed() {
		t.Logf("tether logs:\n%s", d.logs())
	}
}

func (d *daemon) logs() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.raw.String()
}

// find returns the log lines whose msg is msg and whose other keys match.
func (d *daemon) find(msg string, match map[string]string) []map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []map[string]any
	for _, l := range d.lines {
		if l["msg"] != msg {
			continue
		}
		ok := true
		for k, v := range match {
			if fmt.Sprint(l[k]) != v {
				ok = false
			}
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

func (d *daemon) get(t *testing.T, path string) int {
	t.Helper()
	resp, err := http.Get("http://" + d.addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
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
