package gitrepo_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/tether-ml/tether/e2e/gitrepo"
)

// TestServerStopStart: a stopped server refuses connections, and a started
// one serves the same repository at the same URL again.
func TestServerStopStart(t *testing.T) {
	repo := gitrepo.New(t)
	head := repo.Commit(map[string]string{"README": "hello\n"})
	server := gitrepo.Serve(t, repo.Dir)
	steps := []struct {
		name   string
		change func() error
		want   string // in git ls-remote's output
	}{
		{"serving", func() error { return nil }, head},
		{"stopped", func() error { server.Stop(); return nil }, "Failed to connect"},
		{"stopped twice", func() error { server.Stop(); return nil }, "Failed to connect"},
		{"started again", server.Start, head},
		{"started twice", server.Start, head},
	}
	for _, step := range steps {
		if err := step.change(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		out, _ := exec.Command("git", "ls-remote", server.URL, "refs/heads/main").CombinedOutput()
		if !strings.Contains(string(out), step.want) {
			t.Errorf("%s: git ls-remote: %q, want %q in it", step.name, out, step.want)
		}
	}
}
