package render

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// laughs is a billion-laughs label value: 9 levels of 9 aliases.
func laughs() string {
	var b strings.Builder
	b.WriteString("x-anchors:\n  l0: &l0 \"ha\"\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [", i, i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// TestReadShardLabel: the lenient peek at a model's shard label reads a
// string label (also through an alias), refuses other values, and never
// expands the aliases of other labels: it runs on every changed model
// folder before the strict decode, so a billion-laughs label must cost what
// the file's size does.
func TestReadShardLabel(t *testing.T) {
	tests := []struct {
		name, labels string
		want         string
		ok           bool
	}{
		{"labelled", "tether.dev/shard: gpu\n", "gpu", true},
		{"unlabelled", "team: risk\n", "", true},
		{"not a string", "tether.dev/shard: 12\n", "", false},
		{"a list", "tether.dev/shard: [gpu]\n", "", false},
		{"an alias of a string", "team: &s gpu\n    tether.dev/shard: *s\n", "gpu", true},
		{"laughs beside it", "tether.dev/shard: gpu\n    bomb: *l9\n", "gpu", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), ModelFile)
			spec := laughs() + "metadata:\n  labels:\n    " + tt.labels
			if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got, ok := readShardLabel(file)
			runtime.ReadMemStats(&after)
			if got != tt.want || ok != tt.ok {
				t.Errorf("readShardLabel = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("reading a %d-byte spec allocated %d KiB: aliases were expanded", len(spec), alloc>>10)
			}
		})
	}
}
