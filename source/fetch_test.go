package source_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

func newRepo(t *testing.T, opts source.Options) *source.Repo {
	t.Helper()
	if opts.WorkDir == "" {
		opts.WorkDir = t.TempDir()
	}
	repo, err := source.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// mustSync syncs and checks the revision and whether it changed.
func mustSync(t *testing.T, repo *source.Repo, wantRev string, wantChanged bool) source.Snapshot {
	t.Helper()
	snap, changed, err := repo.Sync(context.Background())
	if err != nil || snap.Revision != wantRev || changed != wantChanged {
		t.Fatalf("Sync = %s changed=%v err=%v, want %s changed=%v", snap.Revision, changed, err, wantRev, wantChanged)
	}
	return snap
}

func syncErr(t *testing.T, repo *source.Repo, kind error, lastRev string) error {
	t.Helper()
	snap, changed, err := repo.Sync(context.Background())
	if !errors.Is(err, kind) || changed || snap.Revision != lastRev {
		t.Fatalf("Sync = %s changed=%v err=%v, want error %v and last revision %s kept", snap.Revision, changed, err, kind, lastRev)
	}
	return err
}

func TestUnchangedHeadCostsOneRequest(t *testing.T) {
	remote := gitrepo.New(t)
	head := remote.Commit(map[string]string{"models/a/model.yaml": "v1"})
	server := gitrepo.Serve(t, remote.Dir)
	repo := newRepo(t, source.Options{URL: server.URL})
	mustSync(t, repo, head, true)
	before := server.Requests.Load()
	mustSync(t, repo, head, false)
	if n := server.Requests.Load() - before; n != 1 {
		t.Errorf("unchanged head took %d requests, want 1 (ls-remote)", n)
	}
}

func TestTrackTagsAndPinnedCommits(t *testing.T) {
	remote := gitrepo.New(t)
	v1 := remote.Commit(map[string]string{"x": "1"})
	remote.Git("tag", "v1")
	remote.Git("tag", "-a", "-m", "release", "r1")
	later := remote.Commit(map[string]string{"x": "2"})
	server := gitrepo.Serve(t, remote.Dir)

	t.Run("lightweight tag", func(t *testing.T) {
		repo := newRepo(t, source.Options{URL: server.URL, Tag: "v1"})
		snap := mustSync(t, repo, v1, true)
		assertFile(t, snap.Dir, "x", "1")
		if repo.Ref() != "refs/tags/v1" {
			t.Errorf("Ref = %s", repo.Ref())
		}
		remote.Git("tag", "-f", "v1", later) // a moved tag is followed
		mustSync(t, repo, later, true)
		remote.Git("tag", "-f", "v1", v1)
	})
	t.Run("annotated tag resolves to its commit", func(t *testing.T) {
		repo := newRepo(t, source.Options{URL: server.URL, Tag: "r1"})
		mustSync(t, repo, v1, true)
		mustSync(t, repo, v1, false)
	})
	t.Run("pinned commit is fetched once", func(t *testing.T) {
		repo := newRepo(t, source.Options{URL: server.URL, Commit: v1})
		snap := mustSync(t, repo, v1, true)
		assertFile(t, snap.Dir, "x", "1")
		before := server.Requests.Load()
		mustSync(t, repo, v1, false)
		if n := server.Requests.Load() - before; n != 0 {
			t.Errorf("pinned commit polled the remote %d times", n)
		}
	})
	t.Run("missing tag or commit", func(t *testing.T) {
		syncErr(t, newRepo(t, source.Options{URL: server.URL, Tag: "nope"}), source.ErrNotFound, "")
		syncErr(t, newRepo(t, source.Options{URL: server.URL, Commit: "0123456789012345678901234567890123456789"}), source.ErrNotFound, "")
	})
}

func TestPathSubfolder(t *testing.T) {
	remote := gitrepo.New(t)
	head := remote.Commit(map[string]string{"deploy/ml/models/a/model.yaml": "v1"})
	repo := newRepo(t, source.Options{URL: remote.Dir, Path: "deploy/ml/"})
	snap := mustSync(t, repo, head, true)
	assertFile(t, snap.Dir, "models/a/model.yaml", "v1")
	if snap.Changed != nil {
		t.Errorf("first sync: Changed = %v, want nil (everything)", snap.Changed)
	}
	next := remote.Commit(map[string]string{"deploy/ml/models/b/model.yaml": "b", "README.md": "outside the path"})
	if snap := mustSync(t, repo, next, true); len(snap.Changed) != 1 || snap.Changed[0] != "models/b/model.yaml" {
		t.Errorf("Changed = %v, want [models/b/model.yaml]", snap.Changed)
	}
	syncErr(t, newRepo(t, source.Options{URL: remote.Dir, Path: "elsewhere"}), source.ErrNotFound, "")
	if _, err := source.New(source.Options{URL: remote.Dir, Path: "../x", WorkDir: t.TempDir()}); err == nil {
		t.Error("a path leaving the repository was accepted")
	}
}

// TestPathThroughSymlinkRefused: a --path that is, or runs through, a
// symlink committed to the repository is not found, and the error says why;
// it is never followed (issue 11).
func TestPathThroughSymlinkRefused(t *testing.T) {
	remote := gitrepo.New(t)
	remote.Commit(map[string]string{"real/models/a/model.yaml": "v1"})
	for link, target := range map[string]string{"deploy": "real", "host": "/etc"} {
		if err := os.Symlink(target, filepath.Join(remote.Dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	head := remote.Commit(nil)
	tests := []struct{ path, link string }{{"deploy", "deploy"}, {"deploy/models", "deploy"}, {"host/ssl", "host"}}
	for _, tt := range tests {
		err := syncErr(t, newRepo(t, source.Options{URL: remote.Dir, Path: tt.path}), source.ErrNotFound, "")
		want := fmt.Sprintf("path %q: %q is a symlink in %s; the path must name real folders (symlinks are not followed)", tt.path, tt.link, head)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("--path %s: error = %v\nwant it to contain %q", tt.path, err, want)
		}
	}
}

// TestForcePushAndDeletedBranch: a rewritten head (no descendant of the
// applied one) is fetched shallowly; a deleted branch is ErrNotFound with the
// last revision kept; a recreated branch recovers on its own.
func TestForcePushAndDeletedBranch(t *testing.T) {
	remote := gitrepo.New(t)
	remote.Commit(map[string]string{"x": "base"})
	first := remote.Commit(map[string]string{"x": "1"})
	server := gitrepo.Serve(t, remote.Dir)
	repo := newRepo(t, source.Options{URL: server.URL})
	mustSync(t, repo, first, true)

	remote.Git("reset", "-q", "--hard", "HEAD~1")
	rewritten := remote.Commit(map[string]string{"x": "rewritten"})
	snap := mustSync(t, repo, rewritten, true)
	assertFile(t, snap.Dir, "x", "rewritten")

	remote.Git("checkout", "-q", "--orphan", "other")
	orphan := remote.Commit(map[string]string{"x": "orphan"})
	remote.Git("branch", "-D", "main")
	err := syncErr(t, repo, source.ErrNotFound, rewritten)
	if want := `branch "main" not found`; !contains(err, want) {
		t.Errorf("deleted branch: %v, want %q", err, want)
	}
	remote.Git("branch", "main", orphan)
	snap = mustSync(t, repo, orphan, true)
	assertFile(t, snap.Dir, "x", "orphan")
}

func TestOutages(t *testing.T) {
	remote := gitrepo.New(t)
	head := remote.Commit(map[string]string{"x": "1"})
	server := gitrepo.Serve(t, remote.Dir)
	repo := newRepo(t, source.Options{URL: server.URL})
	mustSync(t, repo, head, true)

	server.Down.Store(true)
	syncErr(t, repo, source.ErrUnreachable, head)
	server.Down.Store(false)
	next := remote.Commit(map[string]string{"x": "2"})
	mustSync(t, repo, next, true)

	tests := []struct{ name, url string }{
		{"DNS failure", "https://git.example.invalid/ml/models.git"},
		{"connection refused", "http://127.0.0.1:1/models.git"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			syncErr(t, newRepo(t, source.Options{URL: tt.url}), source.ErrUnreachable, "")
		})
	}
}

func contains(err error, s string) bool {
	return err != nil && len(s) > 0 && strings.Contains(err.Error(), s)
}

// TestContentOlderThanTheClone: updates are fetched incrementally, and the
// server leaves out objects it believes the shallow clone has from history it
// never fetched: here a head rewritten onto the commit before the clone,
// reusing a file version only that commit had. The clone notices the missing
// object and is made afresh.
func TestContentOlderThanTheClone(t *testing.T) {
	remote := gitrepo.New(t)
	base := remote.Commit(map[string]string{"models/a/model.yaml": "old", "models/b/model.yaml": "b"})
	second := remote.Commit(map[string]string{"models/a/model.yaml": "new"})
	server := gitrepo.Serve(t, remote.Dir)
	repo := newRepo(t, source.Options{URL: server.URL})
	mustSync(t, repo, second, true)

	remote.Git("reset", "-q", "--hard", base)
	rewritten := remote.Commit(map[string]string{"models/c/model.yaml": "c"})
	snap := mustSync(t, repo, rewritten, true)
	assertFile(t, snap.Dir, "models/a/model.yaml", "old")
	assertFile(t, snap.Dir, "models/c/model.yaml", "c")
}
