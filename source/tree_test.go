package source_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

func TestTreeHash(t *testing.T) {
	remote := gitrepo.New(t)
	remote.Commit(map[string]string{
		"ml/tether.yaml":                        "bundles: []\n",
		"ml/models/a/model.yaml":                "a1",
		"ml/models/b/model.yaml":                "b1",
		"ml/components/c/kustomization.yaml":    "kind: Component\n",
		"ml/components/real/kustomization.yaml": "kind: Component\n",
	})
	if err := os.Symlink("real", filepath.Join(remote.Dir, "ml/components/link")); err != nil {
		t.Fatal(err)
	}
	remote.Git("add", "-A")
	remote.Git("commit", "-qm", "symlink")
	repo := newRepo(t, source.Options{URL: remote.Dir, Path: "ml"})
	first := mustSync(t, repo, remote.Head(), true)

	tests := []struct {
		path   string
		gitRev string // what git rev-parse says; "" when TreeHash must answer !ok
	}{
		{"models/a", "HEAD:ml/models/a"},
		{"models", "HEAD:ml/models"},
		{"tether.yaml", "HEAD:ml/tether.yaml"},
		{"/models/a/model.yaml", "HEAD:ml/models/a/model.yaml"},
		{"components/c", "HEAD:ml/components/c"},
		{"components/link", ""},                    // a symlink: its hash says nothing of its target
		{"components/link/kustomization.yaml", ""}, // through a symlink
		{"models/missing", ""},
		{"models/a/model.yaml/x", ""},
		{"../outside", ""},
		{"", "HEAD:ml"},
	}
	for _, tt := range tests {
		got, ok := first.TreeHash(tt.path)
		want := ""
		if tt.gitRev != "" {
			want = remote.Git("rev-parse", tt.gitRev)
		}
		if got != want || ok != (want != "") {
			t.Errorf("TreeHash(%q) = %q, %v; want %q", tt.path, got, ok, want)
		}
	}

	remote.Commit(map[string]string{"ml/models/a/kustomization.yaml": "resources: []\n"})
	second := mustSync(t, repo, remote.Head(), true)
	if a1, _ := first.TreeHash("models/a"); a1 == must(t, second, "models/a") {
		t.Error("models/a: same hash after a file was added below it")
	}
	if must(t, first, "models/b") != must(t, second, "models/b") {
		t.Error("models/b: hash changed although nothing below it did")
	}
	if _, ok := (source.Snapshot{Dir: remote.Dir}).TreeHash("models/a"); ok {
		t.Error("a Snapshot without a tree answered a hash")
	}
}

func must(t *testing.T, s source.Snapshot, p string) string {
	t.Helper()
	h, ok := s.TreeHash(p)
	if !ok {
		t.Fatalf("TreeHash(%q) not found", p)
	}
	return h
}
