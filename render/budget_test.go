package render_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-ml/tether/render"
)

// TestParallelTreesShareOneBudget: every overlay is copied into memory before
// kustomize builds it, one per worker, and builds run one at a time. Eight
// workers with 35 MiB trees waiting behind a slow build held 280 MiB at once;
// all trees together are now held to 128 MiB (issue 11), and every unit still
// renders: a tree waits for room, it does not fail. The data files are hard
// links to one 7 MiB file, so the disk holds 7 MiB.
func TestParallelTreesShareOneBudget(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	defer debug.SetGCPercent(debug.SetGCPercent(5)) // collect often: the live heap is what is measured
	dir := t.TempDir()
	blob := filepath.Join(dir, "blob.bin")
	if err := os.WriteFile(blob, make([]byte, 7<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	writeModel(t, dir, "a-slow", strings.Replace(validSpec, "name: m", "name: a-slow", 1))
	writeTree(t, dir, map[string]string{"models/a-slow/kustomization.yaml": "resources: [many.yaml]\n", "models/a-slow/many.yaml": manyConfigMaps(600)})
	for i := range 7 {
		name := fmt.Sprintf("big-%d", i)
		writeModel(t, dir, name, strings.Replace(validSpec, "name: m", "name: "+name, 1))
		writeTree(t, dir, map[string]string{"models/" + name + "/kustomization.yaml": "resources: []\n"})
		for j := range 5 {
			if err := os.Link(blob, filepath.Join(dir, "models", name, fmt.Sprintf("data-%d.bin", j))); err != nil {
				t.Fatal(err)
			}
		}
	}
	var res *render.Result
	var err error
	peak := peakLiveHeap(func() { res, err = render.Repository(dir, render.Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range res.Units {
		if u.Err != nil {
			t.Errorf("unit %s: %v", u.Name, u.Err)
		}
	}
	t.Logf("live heap peaked at %d MiB", peak>>20)
	if limit := uint64(128+48) << 20; peak > limit {
		t.Errorf("live heap peaked at %d MiB while rendering; want the trees held to 128 MiB (+48 MiB for the rest)", peak>>20)
	}
}

// TestTreeOverItsLimit: one tree over 64 MiB is that unit's error.
func TestTreeOverItsLimit(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, dir, "m", validSpec)
	writeTree(t, dir, map[string]string{"models/m/kustomization.yaml": "resources: []\n"})
	blob := filepath.Join(dir, "blob.bin")
	if err := os.WriteFile(blob, make([]byte, 8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for j := range 9 {
		if err := os.Link(blob, filepath.Join(dir, "models", "m", fmt.Sprintf("data-%d.bin", j))); err != nil {
			t.Fatal(err)
		}
	}
	assertOnlyFirstFails(t, dir, render.Options{}, "the files of this kustomization exceed 67108864 bytes")
}

// peakLiveHeap runs fn and returns the highest live heap (as of the last
// garbage collection) seen meanwhile, less the live heap before.
func peakLiveHeap(fn func()) uint64 {
	read := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	runtime.GC()
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

func manyConfigMaps(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\ndata: {k: v}\n", i)
	}
	return b.String()
}
