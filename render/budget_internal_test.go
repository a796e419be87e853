package render

import (
	"strings"
	"testing"
	"time"
)

// TestBudgetWaitsForRoom: a reservation that does not fit waits until enough
// is given back, and then succeeds.
func TestBudgetWaitsForRoom(t *testing.T) {
	b := newBudget(10, 4)
	first, second := b.reserve(), b.reserve()
	got := make(chan int64)
	go func() { got <- b.reserve() }()
	select {
	case <-got:
		t.Fatal("a third reservation of 4 fit in 10 with 8 used")
	case <-time.After(50 * time.Millisecond):
	}
	b.release(first - 1) // a tree that completed with 1 byte keeps 1
	if n := <-got; n != 4 {
		t.Errorf("reserved %d, want 4", n)
	}
	b.release(second)
	b.release(1)
	b.release(4)
	if b.used != 0 || b.peak != 9 {
		t.Errorf("used %d, peak %d; want 0 and 9", b.used, b.peak)
	}
}

// TestTreesGiveBackTheirBudget: whatever happens to a unit (a build, a check
// that fails, a kustomize error, a panic), its tree's budget is returned.
func TestTreesGiveBackTheirBudget(t *testing.T) {
	dir := t.TempDir()
	spec := func(name string) string { return strings.Replace(testSpec, "NAME", name, 1) }
	writeFiles(t, dir, map[string]string{
		"tether.yaml":                    "bundles: [bundles/b]\n",
		"bundles/b/kustomization.yaml":   "resources: [ns.yaml]\n",
		"bundles/b/ns.yaml":              "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n",
		"models/ok/model.yaml":           spec("ok"),
		"models/ok/kustomization.yaml":   "labels: [{pairs: {a: b}}]\n",
		"models/bad/model.yaml":          spec("bad"),
		"models/bad/kustomization.yaml":  "resources: [../../x]\n",
		"models/fail/model.yaml":         spec("fail"),
		"models/fail/kustomization.yaml": "patches: [{patch: 'kind: Deployment'}]\n",
	})
	if _, err := Repository(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	real := runKustomize
	t.Cleanup(func() { runKustomize = real })
	runKustomize = nil // a nil function: every build panics
	if u := LoadModel(dir, "ok", Options{}); u.Err == nil {
		t.Error("want the panic as an error")
	}
	if u := LoadBundle(dir, "bundles/b", Options{}); u.Err == nil {
		t.Error("want the panic as an error")
	}
	if treeBudget.used != 0 {
		t.Errorf("%d bytes of the tree budget were not given back", treeBudget.used)
	}
}
