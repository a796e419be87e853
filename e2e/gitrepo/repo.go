package gitrepo

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Repo is a throwaway repository on branch main.
type Repo struct {
	t   testing.TB
	Dir string
	env []string // extra environment for git, e.g. GNUPGHOME for signing
}

// New initialises an empty repository in a temporary directory.
func New(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, Dir: t.TempDir()}
	r.Git("init", "-q", "-b", "main")
	return r
}

// Git runs git in the repository and returns its trimmed output.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=tether-test", "GIT_AUTHOR_EMAIL=test@tether.dev",
		"GIT_COMMITTER_NAME=tether-test", "GIT_COMMITTER_EMAIL=test@tether.dev")
	cmd.Env = append(cmd.Env, r.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit writes files (path → content; empty content deletes the file), commits
// them and returns the commit hash.
func (r *Repo) Commit(files map[string]string) string {
	r.t.Helper()
	// Removals first, then writes, each in path order: map order is random,
	// and writing a/b before removing a (say, a symlink) would write through it.
	names := slices.Sorted(maps.Keys(files))
	for _, name := range names {
		if files[name] == "" {
			if err := os.RemoveAll(filepath.Join(r.Dir, filepath.FromSlash(name))); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	writes := map[string]string{}
	for name, content := range files {
		if content != "" {
			writes[name] = content
		}
	}
	WriteFiles(r.t, r.Dir, writes)
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", "test change")
	return r.Head()
}

// WriteFiles writes files (path → content, slash-separated paths) below dir,
// creating folders, in path order.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// PullRequest commits files on a branch pr<n> off base, points
// refs/pull/<n>/head at that commit, as GitHub does for pull request n, goes
// back to main and returns the commit.
func (r *Repo) PullRequest(n int, base string, files map[string]string) string {
	r.t.Helper()
	r.Git("checkout", "-q", "-B", fmt.Sprintf("pr%d", n), base)
	rev := r.Commit(files)
	r.Git("update-ref", fmt.Sprintf("refs/pull/%d/head", n), rev)
	r.Git("checkout", "-q", "main")
	return rev
}

// Head is the commit hash of main.
func (r *Repo) Head() string { return r.Git("rev-parse", "HEAD") }

// CopyTree copies the files under src into the repository, keeping paths.
func (r *Repo) CopyTree(src string) {
	r.t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(r.Dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		r.t.Fatal(err)
	}
}
