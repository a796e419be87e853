package source_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

func newRefSet(t *testing.T, opts source.Options, patterns ...string) *source.RefSet {
	t.Helper()
	if opts.WorkDir == "" {
		opts.WorkDir = t.TempDir()
	}
	set, err := source.NewRefSet(opts, patterns)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// listed is List's answer as ref → revision, failing the test on error.
func listed(t *testing.T, set *source.RefSet) map[string]string {
	t.Helper()
	heads, err := set.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, h := range heads {
		out[h.Ref] = h.Revision
	}
	return out
}

// TestRefSetFollowsPullRequests: matching refs are listed with one ls-remote,
// fetched once, checked out into worktrees of their own, followed when they
// move and forgotten when they go.
func TestRefSetFollowsPullRequests(t *testing.T) {
	remote := gitrepo.New(t)
	base := remote.Commit(map[string]string{"models/a/model.yaml": "main"})
	remote.Git("checkout", "-q", "-b", "pr7")
	pr7 := remote.Commit(map[string]string{"models/a/model.yaml": "pr7", "models/b/model.yaml": "new"})
	remote.Git("update-ref", "refs/pull/7/head", pr7)
	remote.Git("update-ref", "refs/pull/12/head", base)
	remote.Git("update-ref", "refs/merge-requests/3/head", base) // no pattern matches it
	server := gitrepo.Serve(t, remote.Dir)
	set := newRefSet(t, source.Options{URL: server.URL}, "refs/pull/*/head")

	heads, err := set.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []source.Head{
		{Ref: "refs/pull/12/head", Pattern: "refs/pull/*/head", Capture: "12", Revision: base},
		{Ref: "refs/pull/7/head", Pattern: "refs/pull/*/head", Capture: "7", Revision: pr7},
	}
	if diff := cmp.Diff(want, heads, cmpIgnoreTime()); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	for _, h := range heads {
		if time.Since(h.Time) > time.Hour || time.Since(h.Time) < 0 {
			t.Errorf("%s: commit time %s, want the commit's", h.Ref, h.Time)
		}
	}
	wt := set.Worktree(filepath.Join(t.TempDir(), "pr-7"))
	snap := mustCheckout(t, wt, pr7)
	assertFile(t, snap.Dir, "models/b/model.yaml", "new")

	before := server.Requests.Load()
	listed(t, set)
	if n := server.Requests.Load() - before; n != 1 {
		t.Errorf("an unchanged listing took %d requests, want 1 (ls-remote)", n)
	}

	moved := remote.Commit(map[string]string{"models/b/model.yaml": ""})
	remote.Git("update-ref", "refs/pull/7/head", moved)
	remote.Git("update-ref", "-d", "refs/pull/12/head")
	if diff := cmp.Diff(map[string]string{"refs/pull/7/head": moved}, listed(t, set)); diff != "" {
		t.Errorf("after a push and a deleted ref (-want +got):\n%s", diff)
	}
	snap = mustCheckout(t, wt, moved)
	if diff := cmp.Diff([]string{"models/b/model.yaml"}, snap.Changed); diff != "" {
		t.Errorf("Changed (-want +got):\n%s", diff)
	}
}

func cmpIgnoreTime() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Time" }, cmp.Ignore())
}

func mustCheckout(t *testing.T, wt *source.Worktree, rev string) source.Snapshot {
	t.Helper()
	snap, err := wt.Checkout(context.Background(), rev)
	if err != nil || snap.Revision != rev {
		t.Fatalf("Checkout(%s) = %s, %v", rev, snap.Revision, err)
	}
	return snap
}

// TestRefSetBranchGlob: a branch pattern captures what its * stands for,
// slashes included, and several patterns are listed together.
func TestRefSetBranchGlob(t *testing.T) {
	remote := gitrepo.New(t)
	head := remote.Commit(map[string]string{"x": "1"})
	remote.Git("branch", "preview/alice/try")
	remote.Git("update-ref", "refs/merge-requests/4/head", head)
	set := newRefSet(t, source.Options{URL: remote.Dir}, "refs/heads/preview/*", "refs/merge-requests/*/head")
	heads, err := set.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range heads {
		got = append(got, h.Pattern+" "+h.Capture)
	}
	want := []string{"refs/heads/preview/* alice/try", "refs/merge-requests/*/head 4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("captures (-want +got):\n%s", diff)
	}
}

func TestCheckRefPattern(t *testing.T) {
	tests := []struct {
		pattern string
		err     string
	}{
		{"refs/pull/*/head", ""},
		{"refs/merge-requests/*/head", ""},
		{"refs/heads/preview/*", ""},
		{"pull/*/head", "expected a full ref name starting with refs/"},
		{"refs/pull/head", "expected exactly one *"},
		{"refs/*/*/head", "expected exactly one *"},
		{"refs/pull/*/he..ad", "ref pattern"},
	}
	for _, tt := range tests {
		err := source.CheckRefPattern(tt.pattern)
		if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("CheckRefPattern(%q) = %v, want %q", tt.pattern, err, tt.err)
		}
	}
}

// TestRefSetTrust: preview heads are verified like the tracked head, must
// hold --path, and failures are classified and redacted like Sync's.
func TestRefSetTrust(t *testing.T) {
	dir := t.TempDir()
	key := gitrepo.NewGPGKey(t, "ml@example.com")
	keysFile := writeFile(t, filepath.Join(dir, "keys"), key.Public)
	remote := gitrepo.New(t)
	unsigned := remote.Commit(map[string]string{"ml/models/a/model.yaml": "x"})
	remote.SignWithGPG(key)
	signed := remote.Commit(map[string]string{"ml/models/a/model.yaml": "y"})
	remote.Git("update-ref", "refs/pull/1/head", unsigned)
	remote.Git("update-ref", "refs/pull/2/head", signed)

	set := newRefSet(t, source.Options{URL: remote.Dir, Path: "ml", VerifyCommits: true, TrustedKeysFile: keysFile}, "refs/pull/*/head")
	listed(t, set)
	_, err := set.Worktree(filepath.Join(dir, "1")).Checkout(context.Background(), unsigned)
	var ve *source.VerificationError
	if !errors.As(err, &ve) || ve.Revision != unsigned || ve.Reason != "unsigned" {
		t.Errorf("unsigned preview head: %v, want a VerificationError", err)
	}
	snap := mustCheckout(t, set.Worktree(filepath.Join(dir, "2")), signed)
	assertFile(t, snap.Dir, "models/a/model.yaml", "y")

	noPath := newRefSet(t, source.Options{URL: remote.Dir, Path: "elsewhere"}, "refs/pull/*/head")
	listed(t, noPath)
	if _, err := noPath.Worktree(filepath.Join(dir, "3")).Checkout(context.Background(), signed); !errors.Is(err, source.ErrNotFound) {
		t.Errorf("a head without --path: %v, want %v", err, source.ErrNotFound)
	}

	server := gitrepo.ServeWith(t, remote.Dir, gitrepo.ServeOptions{Username: "tether", Password: "right"})
	wrong := strings.Replace(server.URL, "http://", "http://tether:s3cret-wrong@", 1)
	_, err = newRefSet(t, source.Options{URL: wrong}, "refs/pull/*/head").List(context.Background())
	if !errors.Is(err, source.ErrAuth) || strings.Contains(err.Error(), "s3cret-wrong") {
		t.Errorf("wrong password: %v, want %v without the password", err, source.ErrAuth)
	}
}
