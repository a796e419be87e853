package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

const (
	incModel = `apiVersion: tether.dev/v1alpha1
kind: Model
spec:
  image: registry.example.com/m@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  serving: {port: 8080}
`
	incComponent = `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources: [extra.yaml]
labels:
  - pairs: {shared: v1}
`
	incExtra = `apiVersion: v1
kind: ConfigMap
metadata: {name: extra}
data:
  v: "1"
`
)

// incrementalRepo is a models repository in Git, synced through source.Repo
// as the daemon syncs it: bundle platform and model a use the component
// shared; model c uses it through the symlink components/link; b and d have
// no overlay.
func incrementalRepo(t *testing.T) (*gitrepo.Repo, *source.Repo) {
	remote := gitrepo.New(t)
	remote.Commit(map[string]string{
		"tether.yaml":                             "bundles: [bundles/platform]\n",
		"bundles/platform/kustomization.yaml":     "components: [../../components/shared]\nnamePrefix: platform-\n",
		"components/shared/kustomization.yaml":    incComponent,
		"components/shared/extra.yaml":            incExtra,
		"models/a/model.yaml":                     incModel,
		"models/a/kustomization.yaml":             "components: [../../components/shared]\nnameSuffix: -a\n",
		"models/b/model.yaml":                     incModel,
		"models/c/model.yaml":                     incModel,
		"models/c/kustomization.yaml":             "components: [../../components/link]\nnameSuffix: -c\n",
		"models/d/model.yaml":                     incModel,
		"components/unused/kustomization.yaml":    "kind: Component\n",
		"docs/README.md":                          "models\n",
		"models/b/notes/kustomization-ideas.yaml": "# not read by anything\n",
	})
	if err := os.Symlink("shared", filepath.Join(remote.Dir, "components", "link")); err != nil {
		t.Fatal(err)
	}
	remote.Git("add", "-A")
	remote.Git("commit", "-qm", "symlink")
	return remote, sourceOf(t, remote)
}

// sourceOf tracks remote's main branch as the daemon does.
func sourceOf(t *testing.T, remote *gitrepo.Repo) *source.Repo {
	t.Helper()
	repo, err := source.New(source.Options{URL: remote.Dir, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// TestIncrementalRendersChangedInputs: after each commit, exactly the units
// whose inputs changed are rendered again (c, whose component is reached
// through a symlink, always is), and every unit, reused or not, is what a
// full render of the revision yields.
func TestIncrementalRendersChangedInputs(t *testing.T) {
	remote, repo := incrementalRepo(t)
	inc := NewIncremental(Options{DefaultNamespace: "ml", DefaultDrift: DriftRevert})
	sync := func() source.Snapshot {
		snap, _, err := repo.Sync(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	check(t, inc, sync(), []string{"platform", "a", "b", "c", "d"})
	tests := []struct {
		name     string
		change   map[string]string
		rendered []string
	}{
		{"unrelated file", map[string]string{"docs/README.md": "more\n", "components/unused/x.yaml": "x: 1\n"}, []string{"c"}},
		{"model edited", map[string]string{"models/b/model.yaml": incModel + "  suspend: true\n"}, []string{"b", "c"}},
		{"file in a model folder", map[string]string{"models/b/notes/kustomization-ideas.yaml": "# still nothing\n"}, []string{"b", "c"}},
		{"component edited", map[string]string{"components/shared/kustomization.yaml": incComponent + "namePrefix: x-\n"}, []string{"platform", "a", "c"}},
		{"shared file edited", map[string]string{"components/shared/extra.yaml": incExtra + "  w: \"2\"\n"}, []string{"platform", "a", "c"}},
		{"tether.yaml changed", map[string]string{"tether.yaml": "bundles: [bundles/platform]\ndefaultNamespace: other\n"}, []string{"platform", "a", "b", "c", "d"}},
		{"model added", map[string]string{"models/e/model.yaml": incModel}, []string{"c", "e"}},
		{"invalid model", map[string]string{"models/d/model.yaml": "kind: Model\n"}, []string{"c", "d"}},
		{"still invalid", map[string]string{"docs/README.md": "again\n"}, []string{"c", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remote.Commit(tt.change)
			check(t, inc, sync(), tt.rendered)
		})
	}
	t.Run("flag changed after restart", func(t *testing.T) {
		inc.flags.RequireDigest = true // as if the records of a daemon started with other flags were kept
		check(t, inc, sync(), []string{"platform", "a", "b", "c", "d", "e"})
	})
	t.Run("caller lost a unit", func(t *testing.T) {
		res, err := inc.Render(sync().Dir, sync(), Hooks{Keep: func(u *Unit) bool { return u.Name != "a" }})
		if err != nil {
			t.Fatal(err)
		}
		if got := renderedNames(res); !slices.Equal(got, []string{"a", "c", "d"}) {
			t.Errorf("rendered %v, want [a c d]", got)
		}
	})
}

// check renders snap incrementally, compares which units were rendered with
// want, and compares every unit with a full render of the same revision.
func check(t *testing.T, inc *Incremental, snap source.Snapshot, want []string) {
	t.Helper()
	res, err := inc.Render(snap.Dir, snap, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if got := renderedNames(res); !slices.Equal(got, want) {
		t.Errorf("rendered %v, want %v", got, want)
	}
	full, err := NewIncremental(inc.flags).Render(snap.Dir, nil, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	summary := func(r *Result) []Unit {
		var out []Unit
		for _, u := range r.Units {
			u.Objects, u.Reused = nil, false
			out = append(out, u)
		}
		return out
	}
	for _, u := range res.Units {
		if u.Err != nil && u.Name != "d" {
			t.Errorf("%s: %v", u.Name, u.Err)
		}
	}
	if diff := cmp.Diff(summary(full), summary(res), cmp.Comparer(func(a, b error) bool { return fmt.Sprint(a) == fmt.Sprint(b) })); diff != "" {
		t.Errorf("incremental render differs from a full one (-full +incremental):\n%s", diff)
	}
}

func renderedNames(res *Result) []string {
	var out []string
	for _, u := range res.Units {
		if !u.Reused {
			out = append(out, u.Name)
		}
	}
	return out
}

// TestIncrementalRenderedHook: Hooks.Rendered gets each valid unit as it is
// rendered, never a reused or invalid one; the objects it takes are not in
// the result, and a unit it marks invalid is rendered again at the next
// revision instead of being reused.
func TestIncrementalRenderedHook(t *testing.T) {
	remote, repo := incrementalRepo(t)
	remote.Commit(map[string]string{"models/d/model.yaml": "kind: Model\n"})
	inc := NewIncremental(Options{DefaultNamespace: "ml", DefaultDrift: DriftRevert})
	head := func() source.Snapshot {
		snap, _, err := repo.Sync(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	var mu sync.Mutex
	var got []string
	taken := 0
	hooks := Hooks{Rendered: func(u *Unit) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, u.Name)
		taken += len(u.Objects)
		u.Objects = nil
		if u.Name == "b" {
			u.Err = fmt.Errorf("b: cannot encode")
		}
	}}
	res, err := inc.Render(head().Dir, head(), hooks)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"a", "b", "c", "platform"}; !slices.Equal(got, want) {
		t.Errorf("Rendered got %v, want %v (d is invalid)", got, want)
	}
	if taken == 0 {
		t.Error("Rendered got no objects")
	}
	for _, u := range res.Units {
		if len(u.Objects) > 0 {
			t.Errorf("%s: %d objects in the result, want those the hook took", u.Name, len(u.Objects))
		}
		if u.Name == "b" && u.Err == nil {
			t.Error("b: the hook's error was dropped")
		}
	}
	remote.Commit(map[string]string{"docs/README.md": "more\n"})
	got = nil
	res, err = inc.Render(head().Dir, head(), hooks)
	if err != nil {
		t.Fatal(err)
	}
	if names, want := renderedNames(res), []string{"b", "c", "d"}; !slices.Equal(names, want) {
		t.Errorf("rendered %v, want %v: b was refused by the hook, c reaches its component through a symlink, d is invalid", names, want)
	}
	slices.Sort(got)
	if want := []string{"b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Rendered got %v at the second revision, want %v", got, want)
	}
}
