package test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// scenarioTimeout bounds one run of the scenario; it takes about ten seconds.
const scenarioTimeout = 90 * time.Second

// TestInCluster installs the chart into the local control plane, then runs
// tether as the chart's ServiceAccount: the binary with the Deployment's
// arguments, the same with each permission taken away, and the image.
func TestInCluster(t *testing.T) {
	e := newEnv(t)
	t.Run("install", e.testInstall)
	t.Run("namespaces-scope", e.testNamespacesScope)
	t.Run("least-privilege", e.testLeastPrivilege)
	t.Run("image", e.testImage)
}

// testInstall runs the binary with the Deployment's arguments and a token of
// the chart's ServiceAccount: it applies, reverts and prunes with no
// Forbidden, posts drift to the Slack URL from its Secret and accepts pushes
// signed with the webhook secret from its.
func (e *env) testInstall(t *testing.T) {
	e.clean(t)
	e.resetRepo(t)
	d := e.runHost(t, e.tokenKubeconfig(t, e.token(t)))
	addr := d.listenAddr(t, 15*time.Second)
	e.mustPass(t, d)
	e.checkSlack(t)
	checkWebhook(t, addr)
}

// testNamespacesScope installs the chart with rbac.scope namespaces, which
// grants writes only in the listed namespace: the scenario, all of whose
// objects live there, must still pass with no Forbidden.
func (e *env) testNamespacesScope(t *testing.T) {
	s := e.scoped(t)
	s.clean(t)
	s.resetRepo(t)
	d := s.runHost(t, s.tokenKubeconfig(t, s.token(t)))
	d.listenAddr(t, 15*time.Second)
	s.mustPass(t, d)
}

// mustPass runs the scenario with d, which has the chart's permissions: it
// must complete, and nothing may be refused.
func (e *env) mustPass(t *testing.T, d *daemon) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	if err := e.scenario(ctx, t); err != nil {
		t.Fatalf("%v\ntether logs:\n%s", err, d.logs())
	}
	if lines := d.grep("forbidden"); len(lines) > 0 {
		t.Errorf("tether was refused with the chart's permissions:\n%s", strings.Join(lines, "\n"))
	}
}

// runHost starts the tether binary with the Deployment's arguments, the
// Secrets' files in local directories, kubeconfig's token and environ added.
func (e *env) runHost(t *testing.T, kubeconfig string, environ ...string) *daemon {
	t.Helper()
	args := hostArgs(containerArgs(t, e.deploy), e.mountDirs(t),
		"--kubeconfig="+kubeconfig, "--listen=127.0.0.1:0")
	cmd := exec.Command(tetherBin, args...)
	cmd.Env = append(os.Environ(), environ...)
	return startDaemon(t, cmd)
}

// checkSlack waits for the drift report on churn-scorer at the URL the
// tether-slack Secret holds.
func (e *env) checkSlack(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range e.slack.Messages() {
			if text := m.Render(); strings.Contains(text, "churn-scorer") && strings.Contains(text, "replicas") {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("no Slack message about churn-scorer's replicas within 15s; got %d messages", len(e.slack.Messages()))
}

// checkWebhook posts a push to /hooks/git signed with the secret from the
// tether-webhook Secret (202), and one unsigned (401).
func checkWebhook(t *testing.T, addr string) {
	t.Helper()
	body := `{"ref":"refs/heads/main"}`
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write([]byte(body))
	tests := []struct {
		name      string
		signature string
		want      int
	}{
		{"signed", "sha256=" + hex.EncodeToString(mac.Sum(nil)), http.StatusAccepted},
		{"unsigned", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/hooks/git", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("Content-Type", "application/json")
		if tt.signature != "" {
			req.Header.Set("X-Hub-Signature-256", tt.signature)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /hooks/git (%s): %v", tt.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("POST /hooks/git (%s): status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
}
