package source_test

import (
	"context"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-ml/tether/source"
)

// gitRepo is a throwaway repository driven with the git CLI.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files and commits them, returning the commit hash.
func (r *gitRepo) commit(files map[string]string) string {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git("add", "-A")
	r.git("commit", "-q", "-m", "change")
	return r.git("rev-parse", "HEAD")
}

func TestSyncFollowsTheBranch(t *testing.T) {
	remote := newGitRepo(t)
	first := remote.commit(map[string]string{"models/a/model.yaml": "v1"})
	tests := []struct {
		name string
		url  string
	}{
		{"local path", remote.dir},
		{"file URL", "file://" + remote.dir},
		{"http", serveHTTP(t, remote.dir)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			repo, err := source.New(source.Options{URL: tt.url, Branch: "main", WorkDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			snap, changed, err := repo.Sync(ctx)
			if err != nil || !changed || snap.Revision != first {
				t.Fatalf("first sync: rev=%s changed=%v err=%v, want %s", snap.Revision, changed, err, first)
			}
			assertFile(t, snap.Dir, "models/a/model.yaml", "v1")
			if _, changed, err := repo.Sync(ctx); err != nil || changed {
				t.Fatalf("unchanged head: changed=%v err=%v", changed, err)
			}
			second := remote.commit(map[string]string{"models/a/model.yaml": "v2"})
			snap, changed, err = repo.Sync(ctx)
			if err != nil || !changed || snap.Revision != second {
				t.Fatalf("after commit: rev=%s changed=%v err=%v, want %s", snap.Revision, changed, err, second)
			}
			assertFile(t, snap.Dir, "models/a/model.yaml", "v2")
			remote.commit(map[string]string{"models/a/model.yaml": "v1"}) // leave the remote as the next case expects
			first = remote.git("rev-parse", "HEAD")
		})
	}
}

func assertFile(t *testing.T, dir, name, want string) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil || string(got) != want {
		t.Fatalf("%s = %q (%v), want %q", name, got, err, want)
	}
}

// serveHTTP serves a repository over git's smart HTTP protocol with
// git http-backend behind net/http/cgi.
func serveHTTP(t *testing.T, repoDir string) string {
	t.Helper()
	backend, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	h := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(backend)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + filepath.Dir(repoDir), "GIT_HTTP_EXPORT_ALL=1"},
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(repoDir)
}

func TestSyncErrors(t *testing.T) {
	remote := newGitRepo(t)
	remote.commit(map[string]string{"x": "1"})
	repo, err := source.New(source.Options{URL: remote.dir, Branch: "release", WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := repo.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), `branch "release" not found`) {
		t.Errorf("missing branch: err = %v", err)
	}
	if _, err := source.New(source.Options{URL: "/does/not/exist", WorkDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing local repository: err = %v", err)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:s3cret@git.example.com/ml/models.git", "https://user:***@git.example.com/ml/models.git"},
		{"https://git.example.com/ml/models.git", "https://git.example.com/ml/models.git"},
		{"git@github.com:ml/models.git", "git@github.com:ml/models.git"},
	}
	for _, tt := range tests {
		if got := source.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
