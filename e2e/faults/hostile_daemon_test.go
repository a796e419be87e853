//go:build faults

package faults

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
)

// TestHostileWebhookRequests: requests to /hooks/git that are unsigned,
// wrongly signed, or too large by their headers or their body. Each gets its
// answer, none starts a fetch, and memory stays flat.
func TestHostileWebhookRequests(t *testing.T) {
	f := newFixture(t, "faults-hook")
	r := newResult(t, "hostile: webhook requests",
		"POST /hooks/git unsigned, wrongly signed, declaring an 11 MiB body, sending a 20 MiB chunked body, and with a 1 MiB header")
	f.repo.Commit(modelFiles("w", 2, 1))
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, f.args("--interval", "1h", "--webhook-secret-file", secret)...)
	d.reconciled(t, 0, f.repo.Head(), 3*time.Minute)
	before := f.converged(t, time.Minute)
	gitBefore, rssBefore := f.server.Requests.Load(), rssMiB(d.pid())
	sig := "sha256=" + strings.Repeat("ab", 32) // well formed, wrong
	tests := []struct {
		name   string
		header map[string]string
		body   io.Reader
		length int64 // ContentLength; -1: chunked
		want   int
	}{
		{"unsigned push", map[string]string{"X-GitHub-Event": "push"}, strings.NewReader(`{"ref":"refs/heads/main"}`), 0, 401},
		{"wrong signature", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sig}, strings.NewReader(`{"ref":"refs/heads/main"}`), 0, 401},
		{"11 MiB declared", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sig}, zeros(11 << 20), 11 << 20, 413},
		{"20 MiB chunked", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sig}, zeros(20 << 20), -1, 413},
		{"1 MiB header", map[string]string{"X-GitHub-Event": strings.Repeat("x", 1<<20)}, strings.NewReader("{}"), 0, 431},
	}
	var answers []string
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodPost, "http://"+d.Addr+"/hooks/git", tt.body)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		if tt.length != 0 {
			req.ContentLength = tt.length
		}
		began := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: answered %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
		answers = append(answers, fmt.Sprintf("%s %d (%s)", tt.name, resp.StatusCode, time.Since(began).Round(time.Millisecond)))
	}
	if n := f.server.Requests.Load() - gitBefore; n != 0 {
		t.Errorf("%d requests to the Git server, want no fetch", n)
	}
	f.account(t, r, before, time.Minute)
	r.tether("answered %s; no fetch", strings.Join(answers, ", "))
	r.figure("RSS %.0f MiB before, %.0f MiB after", rssBefore, rssMiB(d.pid()))
}

// zeros is n zero bytes, made as they are read.
func zeros(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestTokenAsUserName: the repository URL carries an access token as its
// user name, as GitHub allows. tether must use it and show it nowhere: not
// in a log line, /status, /metrics or the clone on disk; an unparsable URL
// holding a token is refused without printing it.
func TestTokenAsUserName(t *testing.T) {
	ns := "faults-token"
	f := newFixture(t, ns)
	r := newResult(t, "hostile: a token as the URL's user name",
		"--repo http://<token>@127.0.0.1:PORT/... against a server that wants the token as basic-auth user; then --repo http://<token>@[::1 (unparsable)")
	token := "ghp_" + strings.Repeat("Tk9", 12)
	server := gitrepo.ServeWith(t, f.repo.Dir, gitrepo.ServeOptions{Username: token})
	f.repo.Commit(modelFiles("t", 2, 1))
	url := strings.Replace(server.URL, "http://", "http://"+token+"@", 1)
	work := t.TempDir()
	d := startDaemon(t, "--repo", url, "--default-namespace", ns, "--interval", "5s", "--work-dir", work)
	d.reconciled(t, 0, f.repo.Head(), 3*time.Minute)
	f.converged(t, time.Minute)
	var leaks []string
	status, err1 := d.get("/status")
	metrics, err2 := d.get("/metrics")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	for name, text := range map[string]string{"the log": d.Logs(), "/status": string(status), "/metrics": string(metrics), "the work dir": grepDir(t, work, token)} {
		if strings.Contains(text, token) {
			leaks = append(leaks, name)
		}
	}
	out, code := runTether(t, "run", "--repo", "http://"+token+"@[::1", "--kubeconfig", cluster.Shared().Kubeconfig)
	if strings.Contains(out, token) {
		leaks = append(leaks, "the error of an unparsable URL")
	}
	if code != 2 {
		t.Errorf("an unparsable --repo: exit %d, want 2", code)
	}
	if len(leaks) > 0 {
		t.Errorf("the token shows in %s", strings.Join(leaks, ", "))
	}
	redacted := d.Find(0, "tether started", nil)[0].Fields["repo"]
	r.tether("cloned and applied with it; logged the repository as %v; the token in none of the log, /status, /metrics, the clone; the unparsable URL refused (exit %d): %q", redacted, code, strings.TrimSpace(out))
}

// grepDir returns the names of the files under dir that contain s.
func grepDir(t *testing.T, dir, s string) string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && bytes.Contains(data, []byte(s)) {
			hits = append(hits, p+": "+s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(hits, "\n")
}

// runTether runs the binary to its end and returns its stderr and exit code.
func runTether(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(tetherBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stderr.String(), 0
	case errors.As(err, &exit):
		return stderr.String(), exit.ExitCode()
	}
	t.Fatal(err)
	return "", 0
}

// TestImpossibleScheduleFlags: schedules the daemon is given that never
// fire, or fire too often, are refused at start with one line and exit 2.
func TestImpossibleScheduleFlags(t *testing.T) {
	r := newResult(t, "hostile: impossible schedules as flags",
		`tether run with --interval "0 0 30 2 *", --interval 500ms, --digest-schedule "0 0 30 2 *" and --digest-schedule "* * * * * *"`)
	urlFile := filepath.Join(t.TempDir(), "slack")
	if err := os.WriteFile(urlFile, []byte("http://127.0.0.1:1/hook\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	repo := gitrepo.New(t)
	repo.Commit(modelFiles("s", 1, 1))
	base := []string{"run", "--repo", repo.Dir, "--kubeconfig", cluster.Shared().Kubeconfig, "--slack-webhook-url-file", urlFile}
	tests := [][]string{
		{"--interval", "0 0 30 2 *"},
		{"--interval", "500ms"},
		{"--digest-schedule", "0 0 30 2 *"},
		{"--digest-schedule", "* * * * * *"},
	}
	for _, flags := range tests {
		out, code := runTether(t, append(base, flags...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 2 || len(lines) != 1 {
			t.Errorf("%s: exit %d, %d lines, want exit 2 and one line:\n%s", strings.Join(flags, " "), code, len(lines), out)
		}
		r.tether("%s: exit %d, %q", strings.Join(flags, " "), code, lines[0])
	}
}
