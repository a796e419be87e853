package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/render"
)

// TestLoad: both revisions come from Git objects: the base is the merge base
// (not the tip of a main that moved on), uncommitted edits are ignored, and
// --path is looked up in each revision.
func TestLoad(t *testing.T) {
	r := gitrepo.New(t)
	fork := r.Commit(map[string]string{"models/a/model.yaml": model(pinned, 1)})
	r.Git("checkout", "-q", "-b", "pr")
	pr := r.Commit(map[string]string{"models/a/model.yaml": model(pinned, 2), "ml/models/b/model.yaml": model(pinned, 1)})
	r.Git("checkout", "-q", "main")
	r.Commit(map[string]string{"models/c/model.yaml": model(pinned, 1), "tether.yaml": "drift: sometimes\n"})
	if err := os.WriteFile(filepath.Join(r.Dir, "models/a/model.yaml"), []byte("uncommitted: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := render.Options{DefaultNamespace: "ml", DefaultDrift: render.DriftRevert}

	base, head, err := Load(t.Context(), Source{Dir: r.Dir, Base: "main", Head: "pr", Render: opts})
	if err != nil {
		t.Fatal(err)
	}
	if base.Commit != fork || head.Commit != pr || base.Err != nil || head.Err != nil {
		t.Fatalf("base %s (%v), head %s (%v); want the fork point %s and %s", base.Commit, base.Err, head.Commit, head.Err, fork, pr)
	}
	if names := unitNames(base.Result); names != "a" {
		t.Errorf("base units %q: want the merge base's, not main's tip", names)
	}
	p := Offline(base, head, Options{})
	if p.Summary != "1 model changed" || p.ExitCode != ExitChanges {
		t.Errorf("summary %q, exit %d", p.Summary, p.ExitCode)
	}

	_, head, err = Load(t.Context(), Source{Dir: r.Dir, Base: "pr", Head: "main", Render: opts})
	if err != nil || head.Err == nil || !strings.Contains(head.Err.Error(), `drift: "sometimes"`) {
		t.Errorf("an invalid tether.yaml in the head: err %v, head.Err %v; want the revision's error", err, head.Err)
	}

	base, head, err = Load(t.Context(), Source{Dir: r.Dir, Base: "main", Head: "pr", Path: "ml/", Render: opts})
	if err != nil || unitNames(base.Result) != "" || unitNames(head.Result) != "b" {
		t.Errorf("--path ml: err %v, base %q, head %q; want the folder empty in the base", err, unitNames(base.Result), unitNames(head.Result))
	}
	for path, want := range map[string]string{"nope": `path "nope" not found in revision`, "../x": "expected a relative path inside the repository"} {
		if _, _, err := Load(t.Context(), Source{Dir: r.Dir, Base: "main", Head: "pr", Path: path, Render: opts}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--path %s: err %v, want %q", path, err, want)
		}
	}
	if _, _, err := Load(t.Context(), Source{Dir: r.Dir, Base: "release", Head: "pr", Render: opts}); err == nil || !strings.Contains(err.Error(), `revision "release" not found`) {
		t.Errorf("an unknown base: err %v", err)
	}
}

func unitNames(res *render.Result) string {
	var names []string
	for _, u := range res.Units {
		names = append(names, u.Name)
	}
	return strings.Join(names, ",")
}
