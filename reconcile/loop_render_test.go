package reconcile

import (
	"errors"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

func TestCompactReusesEncodedObjects(t *testing.T) {
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "ml"},
	}}
	keyed := func(h string) string { return "k:" + h }
	prev := encodedUnits{"kept": {hash: "h1", objs: []desired{{key: Key{Kind: "ConfigMap", Namespace: "ml", Name: "kept"}, hash: "k:x"}}}}
	tests := []struct {
		name     string
		unit     render.Unit
		wantKeys []string // keys of the objects the pass holds; nil when the unit fails
		wantErr  bool
	}{
		{"rendered", render.Unit{Name: "fresh", Hash: "h0", Objects: []*unstructured.Unstructured{cm}}, []string{"ConfigMap/ml/c"}, false},
		{"reused and kept", render.Unit{Name: "kept", Hash: "h1", Reused: true}, []string{"ConfigMap/ml/kept"}, false},
		{"reused, kept with other content", render.Unit{Name: "kept", Hash: "h2", Reused: true}, nil, true},
		{"reused, never kept", render.Unit{Name: "lost", Hash: "h1", Reused: true}, nil, true},
		{"invalid", render.Unit{Name: "bad", Err: errors.New("bad spec")}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPass()
			next := p.compact(&render.Result{Units: []render.Unit{tt.unit}}, keyed, prev, nil)
			u, _ := p.rendered(tt.unit.Name)
			if (u.Err != nil) != tt.wantErr {
				t.Fatalf("Err = %v, want error %v", u.Err, tt.wantErr)
			}
			var keys []string
			for _, d := range p.objects[tt.unit.Name] {
				keys = append(keys, d.key.String())
			}
			if !slices.Equal(keys, tt.wantKeys) {
				t.Errorf("objects %v, want %v", keys, tt.wantKeys)
			}
			if _, ok := next[tt.unit.Name]; ok == tt.wantErr || (!tt.wantErr && next[tt.unit.Name].hash != tt.unit.Hash) {
				t.Errorf("kept for the next pass: %+v, want the unit's objects under its render hash %q", next, tt.unit.Hash)
			}
			if !tt.wantErr && u.Hash != keyed(tt.unit.Hash) {
				t.Errorf("unit hash %q, want it keyed", u.Hash)
			}
		})
	}
}

// TestIncrementalRenderAppliesOnlyTheChangedModel runs the loop on a Git
// repository with render.Incremental, as the daemon does: after one model
// changed, only it is rendered and written; the reused models' objects are
// neither written nor pruned; a deleted model is still pruned.
func TestIncrementalRenderAppliesOnlyTheChangedModel(t *testing.T) {
	f := newFixture(t)
	remote := gitrepo.New(t)
	remote.Commit(map[string]string{
		"models/a/model.yaml": servingSpec("a", imgA, 1),
		"models/b/model.yaml": servingSpec("b", imgA, 1),
		"models/c/model.yaml": servingSpec("c", imgA, 1),
	})
	repo, err := source.New(source.Options{URL: remote.Dir, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	inc := render.NewIncremental(render.Options{DefaultNamespace: f.ns, DefaultDrift: render.DriftRevert})
	var rendered []string
	f.loop.cfg.Source = repo
	f.loop.cfg.Render = func(snap source.Snapshot, hooks render.Hooks) (*render.Result, error) {
		res, err := inc.Render(snap.Dir, snap, hooks)
		rendered = nil
		for _, u := range res.Units {
			if !u.Reused {
				rendered = append(rendered, u.Name)
			}
		}
		return res, err
	}
	tests := []struct {
		name            string
		change          map[string]string
		forget          bool // the loop lost its encoded objects
		rendered        []string
		applies, pruned int
	}{
		{"first revision", nil, false, []string{"a", "b", "c"}, 9, 0},
		{"one model changed", map[string]string{"models/b/model.yaml": servingSpec("b", imgB, 1)}, false, []string{"b"}, 2, 0},
		{"one model deleted", map[string]string{"models/c/model.yaml": ""}, false, nil, 0, 2},
		{"encoded objects lost", map[string]string{"README.md": "x"}, true, []string{"a", "b"}, 0, 0},
	}
	for _, tt := range tests {
		if tt.change != nil {
			remote.Commit(tt.change)
		}
		if tt.forget {
			f.loop.encoded = nil
		}
		applies, pruned := f.requests("apply"), prunedObjects(f)
		f.loop.cycle(f.ctx)
		if !slices.Equal(rendered, tt.rendered) {
			t.Errorf("%s: rendered %v, want %v", tt.name, rendered, tt.rendered)
		}
		if got := f.requests("apply") - applies; got != tt.applies {
			t.Errorf("%s: %d apply requests, want %d", tt.name, got, tt.applies)
		}
		if got := prunedObjects(f) - pruned; got != tt.pruned {
			t.Errorf("%s: %d objects pruned, want %d", tt.name, got, tt.pruned)
		}
	}
	// Applied units keep their objects without bodies (trimEncoded); reusing
	// them fails nothing.
	f.loop.cycle(f.ctx)
	for name, e := range f.loop.encoded {
		if !e.trimmed || e.objs[0].body != nil {
			t.Errorf("kept objects of %s: trimmed %v, want their bodies dropped", name, e.trimmed)
		}
	}
	if evs := f.eventsOf(EventSyncFailed); len(evs) > 0 {
		t.Errorf("sync failures: %+v", evs)
	}
	dep, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "b", metav1.GetOptions{})
	if err != nil || dep.Spec.Template.Spec.Containers[0].Image != imgB {
		t.Errorf("Deployment b: %v, want image %s", err, imgB)
	}
}

func prunedObjects(f *fixture) int {
	n := 0
	for _, ev := range f.eventsOf(EventPruned) {
		n += ev.Count
	}
	return n
}
