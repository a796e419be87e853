package source_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

// history is main: c1 - c2 - c4 and feature: c2 - c3, tagged v1 at c1.
type history struct {
	repo           *gitrepo.Repo
	c1, c2, c3, c4 string
}

func newHistory(t *testing.T) history {
	t.Helper()
	r := gitrepo.New(t)
	h := history{repo: r}
	h.c1 = r.Commit(map[string]string{"models/a/model.yaml": "a1"})
	r.Git("tag", "-a", "-m", "release", "v1")
	h.c2 = r.Commit(map[string]string{"models/a/model.yaml": "a2"})
	r.Git("checkout", "-q", "-b", "feature")
	h.c3 = r.Commit(map[string]string{"models/b/model.yaml": "b"})
	r.Git("checkout", "-q", "main")
	h.c4 = r.Commit(map[string]string{"models/c/model.yaml": "c"})
	return h
}

func openLocal(t *testing.T, dir string) *source.Local {
	t.Helper()
	l, err := source.OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLocalResolve(t *testing.T) {
	h := newHistory(t)
	l := openLocal(t, h.repo.Dir)
	tests := []struct {
		ref, want, err string
	}{
		{ref: "main", want: h.c4},
		{ref: "HEAD", want: h.c4},
		{ref: "HEAD~1", want: h.c2},
		{ref: "feature", want: h.c3},
		{ref: "refs/heads/feature", want: h.c3},
		{ref: "v1", want: h.c1}, // an annotated tag resolves to its commit
		{ref: h.c3[:8], want: h.c3},
		{ref: h.c2, want: h.c2},
		{ref: "nope", err: `revision "nope" not found`},
		{ref: "", err: "empty revision"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := l.Resolve(tt.ref)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Resolve(%q) = %s, %v; want error containing %q", tt.ref, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Resolve(%q) = %s, %v; want %s", tt.ref, got, err, tt.want)
			}
		})
	}
}

func TestLocalMergeBase(t *testing.T) {
	h := newHistory(t)
	h.repo.Git("checkout", "-q", "--orphan", "unrelated")
	orphan := h.repo.Commit(map[string]string{"x": "1"})
	h.repo.Git("checkout", "-q", "main")
	l := openLocal(t, h.repo.Dir)
	tests := []struct {
		name, a, b, want, err string
	}{
		{name: "diverged", a: h.c4, b: h.c3, want: h.c2},
		{name: "either order", a: h.c3, b: h.c4, want: h.c2},
		{name: "head ahead of base", a: h.c2, b: h.c4, want: h.c2},
		{name: "same commit", a: h.c4, b: h.c4, want: h.c4},
		{name: "no shared history", a: h.c4, b: orphan, err: "share no history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.MergeBase(tt.a, tt.b)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("MergeBase = %s, %v; want error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("MergeBase = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// TestLocalMergeBaseShallow: a shallow clone (CI's default depth 1) lacks the
// history; the error says so instead of claiming unrelated histories.
func TestLocalMergeBaseShallow(t *testing.T) {
	h := newHistory(t)
	clone := filepath.Join(t.TempDir(), "clone")
	h.repo.Git("clone", "-q", "--depth", "1", "--no-single-branch", "file://"+h.repo.Dir, clone)
	l := openLocal(t, clone)
	main, err := l.Resolve("origin/main")
	if err != nil {
		t.Fatal(err)
	}
	feature, err := l.Resolve("origin/feature")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.MergeBase(main, feature); err == nil || !strings.Contains(err.Error(), "shallow clone") {
		t.Errorf("MergeBase in a shallow clone: err = %v, want a hint at the shallow clone", err)
	}
}

// TestLocalWriteTree: a revision's files land in the folder as committed,
// whatever the working tree holds, and the working tree is left alone.
func TestLocalWriteTree(t *testing.T) {
	h := newHistory(t)
	r := h.repo
	if err := os.WriteFile(filepath.Join(r.Dir, "run.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("models/a", filepath.Join(r.Dir, "link")); err != nil {
		t.Fatal(err)
	}
	head := r.Commit(nil)
	if err := os.WriteFile(filepath.Join(r.Dir, "models/a/model.yaml"), []byte("uncommitted"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := openLocal(t, r.Dir)
	dir := filepath.Join(t.TempDir(), "head")
	if err := l.WriteTree(context.Background(), head, dir); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dir, "models/a/model.yaml", "a2")
	assertFile(t, dir, "models/c/model.yaml", "c")
	if fi, err := os.Stat(filepath.Join(dir, "run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("run.sh: %v, %v; want executable", fi, err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "link")); err != nil || target != "models/a" {
		t.Errorf("link -> %q (%v), want a symlink to models/a", target, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); !os.IsNotExist(err) {
		t.Errorf(".git in the written tree: %v", err)
	}
	assertFile(t, r.Dir, "models/a/model.yaml", "uncommitted")
	if status := r.Git("status", "--porcelain"); status != "M models/a/model.yaml" {
		t.Errorf("git status after WriteTree: %q, want only the uncommitted edit", status)
	}

	base := filepath.Join(t.TempDir(), "base")
	if err := l.WriteTree(context.Background(), h.c1, base); err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(base, "models", "*"))
	if diff := cmp.Diff([]string{filepath.Join(base, "models", "a")}, entries); diff != "" {
		t.Errorf("base tree (-want +got):\n%s", diff)
	}
	if err := l.WriteTree(context.Background(), h.c1, base); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("WriteTree into a non-empty folder: err = %v", err)
	}
}

// TestOpenLocal: a linked worktree opens like its main repository; a folder
// that is no repository is a clear error.
func TestOpenLocal(t *testing.T) {
	h := newHistory(t)
	wt := filepath.Join(t.TempDir(), "wt")
	h.repo.Git("worktree", "add", "-q", wt, "feature")
	if got, err := openLocal(t, wt).Resolve("HEAD"); err != nil || got != h.c3 {
		t.Errorf("worktree HEAD = %s, %v; want %s", got, err, h.c3)
	}
	if _, err := source.OpenLocal(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a Git repository") {
		t.Errorf("OpenLocal of an empty folder: err = %v", err)
	}
}
