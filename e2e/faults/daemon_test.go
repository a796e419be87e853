//go:build faults

package faults

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/tetherproc"
)

// daemon is a running `tether run`.
type daemon struct{ *tetherproc.Process }

// startDaemon runs tether run against the shared cluster, args appended, and
// waits until it logged its listen address. It is stopped (SIGTERM) when the
// test ends, and its log is printed if the test failed.
func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	base := []string{"run", "--kubeconfig", cluster.Shared().Kubeconfig, "--listen", "127.0.0.1:0", "--log-format", "json"}
	p, err := tetherproc.Start(tetherBin, append(base, args...), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{p}
	t.Cleanup(func() {
		if err := d.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("tether log (last 200 lines):\n%s", lastLines(d.Logs(), 200))
		}
	})
	return d
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (d *daemon) pid() int { return d.Cmd.Process.Pid }

// kill ends the daemon with SIGKILL.
func (d *daemon) kill(t *testing.T) {
	t.Helper()
	if err := d.Kill(); err != nil {
		t.Fatal(err)
	}
}

// reconciled waits until a pass after mark reconciled revision with no
// failure and returns when its log line arrived.
func (d *daemon) reconciled(t *testing.T, after int, revision string, timeout time.Duration) time.Time {
	t.Helper()
	var at time.Time
	eventually(t, timeout, "revision "+short(revision)+" reconciled without failure", func() (bool, error) {
		lines := d.Find(after, "revision reconciled", map[string]string{"revision": revision, "failed": "0"})
		if len(lines) == 0 {
			return false, nil
		}
		at = lines[0].At
		return true, nil
	})
	return at
}

// errorLines are the log lines after mark at level ERROR.
func (d *daemon) errorLines(after int) []tetherproc.Line {
	return d.Find(after, "", map[string]string{"level": "ERROR"})
}

// get fetches path from the daemon; anything but 200 is an error.
func (d *daemon) get(path string) ([]byte, error) {
	code, body, err := d.Get(path)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %s", path, code, body)
	}
	return body, err
}

func short(revision string) string { return revision[:min(12, len(revision))] }
