package e2e

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
)

// TestBadInvocation: each mistake is one clear line on stderr and exit code 2.
func TestBadInvocation(t *testing.T) {
	junk := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(junk, []byte("not: [a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	repo := gitrepo.New(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"run", "--repo", repo.Dir, "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{"unreadable kubeconfig", []string{"run", "--repo", repo.Dir, "--kubeconfig", junk}, "--kubeconfig " + junk},
		{"missing kubeconfig", []string{"run", "--repo", repo.Dir, "--kubeconfig", "/does/not/exist"}, "--kubeconfig /does/not/exist"},
		{"repo path that does not exist", []string{"run", "--repo", "/does/not/exist", "--kubeconfig", cluster.Shared().Kubeconfig}, "repository /does/not/exist does not exist"},
		{"unknown command", []string{"deploy"}, `unknown command "deploy"`},
		// issue 11: schedules the loop would spin on, and a token in a URL that does not parse
		{"interval that never fires", []string{"run", "--repo", repo.Dir, "--interval", "0 0 30 2 *", "--kubeconfig", cluster.Shared().Kubeconfig},
			`--interval: poll interval "0 0 30 2 *": never fires`},
		{"interval under a second", []string{"run", "--repo", repo.Dir, "--interval", "@every 100ms", "--kubeconfig", cluster.Shared().Kubeconfig},
			`--interval: poll interval "@every 100ms": 100ms is under 1s`},
		{"token in an unparsable URL", []string{"run", "--repo", "https://ghp_t0ken 5ecret@git.example.com/ml/models.git", "--kubeconfig", cluster.Shared().Kubeconfig},
			"invalid repository URL https://***@git.example.com/ml/models.git"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard: a bad flag must not start the daemon
			defer cancel()
			cmd := exec.CommandContext(ctx, tetherBin, tt.args...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit = %v, want code 2; stderr:\n%s", err, stderr.String())
			}
			if strings.Contains(stderr.String(), "5ecret") {
				t.Errorf("stderr shows the token: %s", stderr.String())
			}
			first := strings.SplitN(stderr.String(), "\n", 2)[0]
			if !strings.HasPrefix(first, "tether: ") || !strings.Contains(first, tt.want) {
				t.Errorf("stderr first line %q, want it to contain %q", first, tt.want)
			}
		})
	}
}

// TestRemoteOutage: while the forge is down the daemon keeps running, logs the
// failure once, and applies the new head as soon as the forge is back.
func TestRemoteOutage(t *testing.T) {
	ctx := context.Background()
	cs := clientset(t)
	ns := newNamespace(t, cs)
	repo, _ := exampleRepo(t)
	server := gitrepo.Serve(t, repo.Dir)
	d := startDaemon(t, "--repo", server.URL, "--interval", "1s", "--default-namespace", ns)
	eventually(t, 20*time.Second, "ready", func() (bool, error) { return d.get(t, "/readyz") == http.StatusOK, nil })

	server.Down.Store(true)
	spec := strings.Replace(readFile(t, repo.Dir+"/models/churn-scorer/model.yaml"), churnImage, churnImage2, 1)
	head := repo.Commit(map[string]string{"models/churn-scorer/model.yaml": spec})
	eventually(t, 5*time.Second, "fetch failure logged", func() (bool, error) { return len(d.find("fetch failed", nil)) > 0, nil })
	time.Sleep(4 * time.Second) // several retries while down
	if n := len(d.find("fetch failed", nil)); n != 1 {
		t.Errorf("fetch failure logged %d times during one outage, want once", n)
	}
	if d.get(t, "/healthz") != http.StatusOK {
		t.Error("daemon unhealthy during a forge outage")
	}

	server.Down.Store(false)
	eventually(t, 5*time.Second, "new head applied after recovery", func() (bool, error) {
		dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "churn-scorer", metav1.GetOptions{})
		return err == nil && dep.Annotations["tether.dev/revision"] == head, err
	})
}
