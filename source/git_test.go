package source_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

func TestSyncFollowsTheBranch(t *testing.T) {
	remote := gitrepo.New(t)
	first := remote.Commit(map[string]string{"models/a/model.yaml": "v1"})
	tests := []struct {
		name string
		url  string
	}{
		{"local path", remote.Dir},
		{"file URL", "file://" + remote.Dir},
		{"http", gitrepo.Serve(t, remote.Dir).URL},
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
			second := remote.Commit(map[string]string{"models/a/model.yaml": "v2"})
			snap, changed, err = repo.Sync(ctx)
			if err != nil || !changed || snap.Revision != second {
				t.Fatalf("after commit: rev=%s changed=%v err=%v, want %s", snap.Revision, changed, err, second)
			}
			assertFile(t, snap.Dir, "models/a/model.yaml", "v2")
			if c := snap.Commit; c.Author != "tether-test <test@tether.dev>" || c.Subject != "test change" || time.Since(c.Time) > time.Hour {
				t.Errorf("commit = %+v, want tether-test's \"test change\" of a moment ago", c)
			}
			remote.Commit(map[string]string{"models/a/model.yaml": "v1"}) // leave the remote as the next case expects
			first = remote.Head()
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

func TestSyncErrors(t *testing.T) {
	remote := gitrepo.New(t)
	remote.Commit(map[string]string{"x": "1"})
	repo, err := source.New(source.Options{URL: remote.Dir, Branch: "release", WorkDir: t.TempDir()})
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
		{"https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/ml/models.git", "https://***@github.com/ml/models.git"},
		{"http://token@127.0.0.1:8080/models", "http://***@127.0.0.1:8080/models"},
		{"https://user:p%40ss@git.example.com/m.git", "https://user:***@git.example.com/m.git"},
		{"ssh://git@github.com/ml/models.git", "ssh://git@github.com/ml/models.git"},
		{"ssh://git:s3cret@github.com/ml/models.git", "ssh://git:***@github.com/ml/models.git"},
	}
	for _, tt := range tests {
		if got := source.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
