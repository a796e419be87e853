package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/e2e/gitrepo"
)

const (
	gitPassword   = "e2e-git-token-7Hq2"
	webhookSecret = "e2e-hook-secret-Lw4"
)

// TestSource runs the daemon against a remote that needs basic auth, with a
// long poll interval so that only signed push webhooks bring new commits.
func TestSource(t *testing.T) {
	ctx := context.Background()
	cs := clientset(t)
	ns := newNamespace(t, cs)
	repo, _ := exampleRepo(t)
	server := gitrepo.ServeWith(t, repo.Dir, gitrepo.ServeOptions{Username: "tether", Password: gitPassword})
	secrets := t.TempDir()
	pwFile := writeSecret(t, secrets, "password", gitPassword+"\n")
	hookFile := writeSecret(t, secrets, "webhook", webhookSecret+"\n")

	d := startDaemon(t, "--repo", server.URL, "--git-username", "tether", "--git-password-file", pwFile,
		"--webhook-secret-file", hookFile, "--interval", "1h", "--default-namespace", ns)
	eventually(t, 20*time.Second, "/readyz answers 200", func() (bool, error) { return d.get(t, "/readyz") == http.StatusOK, nil })
	churnImageIs := func(image, revision string) func() (bool, error) {
		return func() (bool, error) {
			dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "churn-scorer", metav1.GetOptions{})
			return err == nil && dep.Spec.Template.Spec.Containers[0].Image == image && dep.Annotations["tether.dev/revision"] == revision, err
		}
	}
	spec := readFile(t, repo.Dir+"/models/churn-scorer/model.yaml")
	push := `{"ref":"refs/heads/main"}`

	t.Run("unsigned, wrongly signed and other-branch webhooks change nothing", func(t *testing.T) {
		head := repo.Commit(map[string]string{"models/churn-scorer/model.yaml": strings.Replace(spec, churnImage, churnImage2, 1)})
		other := `{"ref":"refs/heads/feature"}`
		tests := []struct {
			name    string
			headers map[string]string
			body    string
			status  int
		}{
			{"unsigned", map[string]string{"X-GitHub-Event": "push"}, push, http.StatusUnauthorized},
			{"wrong signature", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": hmacSHA256("guess", push)}, push, http.StatusUnauthorized},
			{"wrong gitlab token", map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "guess"}, push, http.StatusUnauthorized},
			{"other branch", map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": hmacSHA256(webhookSecret, other)}, other, http.StatusOK},
		}
		for _, tt := range tests {
			if got := postHook(t, d, tt.headers, tt.body); got != tt.status {
				t.Errorf("%s: status %d, want %d", tt.name, got, tt.status)
			}
		}
		time.Sleep(2 * time.Second)
		if ok, _ := churnImageIs(churnImage2, head)(); ok {
			t.Fatal("a rejected webhook triggered a sync")
		}
	})

	t.Run("a signed push is applied at once", func(t *testing.T) {
		head := repo.Head()
		start := time.Now()
		if got := postHook(t, d, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": hmacSHA256(webhookSecret, push)}, push); got != http.StatusAccepted {
			t.Fatalf("status %d, want 202", got)
		}
		eventually(t, 5*time.Second, "pushed commit applied", churnImageIs(churnImage2, head))
		t.Logf("push applied %s after the webhook", time.Since(start).Round(time.Millisecond))
	})

	t.Run("a rotated password is picked up without a restart", func(t *testing.T) {
		rotateSecret(t, pwFile, "wrong-password-Xy8\n")
		head := repo.Commit(map[string]string{"models/churn-scorer/model.yaml": spec})
		gitlab := map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": webhookSecret}
		postHook(t, d, gitlab, push)
		eventually(t, 5*time.Second, "authentication failure logged", func() (bool, error) {
			return strings.Contains(d.logs(), "authentication failed"), nil
		})
		rotateSecret(t, pwFile, gitPassword+"\n")
		postHook(t, d, gitlab, push)
		eventually(t, 5*time.Second, "commit applied with the rotated password", churnImageIs(churnImage, head))
	})

	t.Run("no credential in the logs", func(t *testing.T) {
		for _, secret := range []string{gitPassword, webhookSecret, "wrong-password-Xy8"} {
			if strings.Contains(d.logs(), secret) {
				t.Errorf("secret %q appears in the daemon's logs", secret)
			}
		}
		if len(d.find("webhook", map[string]string{"status": "401"})) != 3 {
			t.Errorf("want the 3 rejected webhooks logged")
		}
	})
}

func hmacSHA256(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func postHook(t *testing.T, d *daemon, headers map[string]string, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+d.addr+"/hooks/git", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /hooks/git: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func writeSecret(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rotateSecret replaces a file the way the kubelet updates a Secret volume.
func rotateSecret(t *testing.T, name, content string) {
	t.Helper()
	tmp := writeSecret(t, filepath.Dir(name), "."+filepath.Base(name)+".new", content)
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}
