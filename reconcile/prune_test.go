package reconcile

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPruneLimit(t *testing.T) {
	tests := []struct {
		limit              string
		deletions, managed int
		blocks             bool
	}{
		{"50%", 10, 12, false}, // never blocks 10 or fewer
		{"50%", 11, 12, true},
		{"50%", 50, 100, false},
		{"50%", 51, 100, true},
		{"100%", 100, 100, false},
		{"0%", 10, 100, false},
		{"25", 25, 1000, false},
		{"25", 26, 1000, true},
		{"0", 1, 1000, true},
	}
	for _, tt := range tests {
		l, err := ParsePruneLimit(tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Blocks(tt.deletions, tt.managed); got != tt.blocks {
			t.Errorf("%s: Blocks(%d of %d) = %v, want %v", tt.limit, tt.deletions, tt.managed, got, tt.blocks)
		}
	}
	for _, bad := range []string{"", "x", "-1", "101%", "5.5%"} {
		if _, err := ParsePruneLimit(bad); err == nil {
			t.Errorf("ParsePruneLimit(%q) accepted", bad)
		}
	}
}

func TestRetainRuns(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2026, 11, 1, 0, min, 0, 0, time.UTC) }
	job := func(name string, min int, finished, desired bool) runInfo {
		return runInfo{Key: Key{Group: "batch", Kind: "Job", Namespace: "ml", Name: name}, Created: at(min), Finished: finished, Desired: desired}
	}
	tests := []struct {
		name string
		runs []runInfo
		keep int
		want []string
	}{
		{"within keepRuns", []runInfo{job("a", 1, true, false), job("b", 2, true, true)}, 3, nil},
		{"oldest finished go first", []runInfo{job("a", 1, true, false), job("b", 2, true, false), job("c", 3, true, false), job("d", 4, true, true)}, 2, []string{"b", "a"}},
		{"running jobs are never deleted", []runInfo{job("a", 1, false, false), job("b", 2, true, false), job("c", 3, true, true)}, 1, []string{"b"}},
		{"a running current run does not count towards keepRuns", []runInfo{job("a", 1, true, false), job("b", 2, false, true)}, 1, nil},
		{"a finished current run counts towards keepRuns", []runInfo{job("a", 1, true, false), job("b", 2, true, true)}, 1, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, k := range retainRuns(tt.runs, tt.keep) {
				got = append(got, k.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
}
