package tetherproc_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/e2e/tetherproc"
)

var bin string

func TestMain(m *testing.M) {
	b, cleanup, err := tetherproc.Build()
	if err != nil {
		panic(err)
	}
	bin = b
	code := cluster.RunMain(m)
	cleanup()
	os.Exit(code)
}

// start runs the daemon on a one-model repository against the package's cluster.
func start(t *testing.T) *tetherproc.Process {
	t.Helper()
	repo := gitrepo.New(t)
	repo.Commit(map[string]string{"models/m/model.yaml": "apiVersion: tether.dev/v1alpha1\nkind: Model\nmetadata: {name: m}\nspec:\n  image: registry.example.com/m:v1\n  serving: {port: 8080}\n"})
	p, err := tetherproc.Start(bin, []string{"run", "--repo", repo.Dir, "--kubeconfig", cluster.Shared().Kubeconfig,
		"--listen", "127.0.0.1:0", "--log-format", "json", "--interval", "1s"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	return p
}

func TestStartFindStop(t *testing.T) {
	p := start(t)
	if code, _, err := p.Get("/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("GET /healthz: %d, %v", code, err)
	}
	deadline := time.Now().Add(time.Minute)
	for len(p.Find(0, "revision reconciled", map[string]string{"models": "1"})) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(p.Find(0, "revision reconciled", map[string]string{"models": "1"})) != 1 {
		t.Fatalf("no revision reconciled line:\n%s", p.Logs())
	}
	if got := p.Find(p.Mark(), "revision reconciled", nil); len(got) != 0 {
		t.Errorf("Find after Mark: %d lines, want none", len(got))
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if p.Running() || len(p.Find(0, "tether stopped", nil)) != 1 {
		t.Errorf("after Stop: running %v, log:\n%s", p.Running(), p.Logs())
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
}

func TestKill(t *testing.T) {
	p := start(t)
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if p.Running() || len(p.Find(0, "tether stopped", nil)) != 0 {
		t.Errorf("after SIGKILL: running %v, log:\n%s", p.Running(), p.Logs())
	}
}

func TestStartExits(t *testing.T) {
	_, err := tetherproc.Start(bin, []string{"run", "--repo", t.TempDir() + "/missing", "--log-format", "json"}, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "exited at start") {
		t.Errorf("Start of a daemon that cannot start: %v, want exited at start", err)
	}
}
