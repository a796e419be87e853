package source_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

// TestCheckoutFollowsTreeChanges: the snapshot directory holds exactly the
// revision's files as heads come and go, including deletions (no empty model
// folders left behind), a directory turning into a file or a symlink, and the
// executable bit.
func TestCheckoutFollowsTreeChanges(t *testing.T) {
	remote := gitrepo.New(t)
	remote.Commit(map[string]string{"models/a/model.yaml": "a", "models/b/model.yaml": "b", "tools/run.sh": "#!/bin/sh\n", "shared/x": "x"})
	if err := os.Chmod(filepath.Join(remote.Dir, "tools/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	first := remote.Commit(nil)
	outside := t.TempDir()
	repo := newRepo(t, source.Options{URL: gitrepo.Serve(t, remote.Dir).URL})
	snap := mustSync(t, repo, first, true)
	if fi, err := os.Stat(filepath.Join(snap.Dir, "tools/run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("tools/run.sh: %v, %v; want executable", fi, err)
	}

	for _, p := range []string{"models/b", "tools", "shared"} {
		if err := os.RemoveAll(filepath.Join(remote.Dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(remote.Dir, "tools"), []byte("now a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(remote.Dir, "shared")); err != nil {
		t.Fatal(err)
	}
	second := remote.Commit(nil)
	snap = mustSync(t, repo, second, true)
	want := []string{"models/b/model.yaml", "shared", "shared/x", "tools", "tools/run.sh"}
	if diff := cmp.Diff(want, snap.Changed); diff != "" {
		t.Errorf("Changed (-want +got):\n%s", diff)
	}
	assertFile(t, snap.Dir, "tools", "now a file")
	if _, err := os.Stat(filepath.Join(snap.Dir, "models/b")); !os.IsNotExist(err) {
		t.Errorf("deleted model folder still there: %v", err)
	}
	if target, err := os.Readlink(filepath.Join(snap.Dir, "shared")); err != nil || target != outside {
		t.Errorf("shared -> %q (%v), want a symlink to %s", target, err, outside)
	}

	remote.Commit(map[string]string{"shared": "", "shared/y": "y"}) // the symlink becomes a directory again
	snap = mustSync(t, repo, remote.Head(), true)
	assertFile(t, snap.Dir, "shared/y", "y")
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("files written outside the snapshot: %v", entries)
	}
	assertFile(t, snap.Dir, "models/a/model.yaml", "a")
}
