package plan

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"created", "", "a\nb\n", "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"deleted", "a\n", "", "--- old\n+++ new\n@@ -1 +0,0 @@\n-a\n"},
		{"context is three lines", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			"--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"far apart changes are two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "one\n2\n3\n4\n5\n6\n7\n8\n9\nten\n",
			"--- old\n+++ new\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+ten\n"},
		{"insertion keeps the common lines", "a\nc\n", "a\nb\nc\n", "--- old\n+++ new\n@@ -1,2 +1,3 @@\n a\n+b\n c\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, unifiedDiff("old", "new", tt.old, tt.new)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnifiedDiffApplies: applying the diff's hunks to the old text yields
// the new one, for random edits of random texts (the line counts in the hunk
// headers included).
func TestUnifiedDiffApplies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		old := randomLines(rng, rng.IntN(30))
		new := editLines(rng, old)
		d := unifiedDiff("a", "b", text(old), text(new))
		got, err := applyDiff(old, d)
		if err != nil {
			t.Fatalf("case %d: %v\n%s", n, err, d)
		}
		if diff := cmp.Diff(new, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("case %d: applied diff differs (-want +got):\n%s\ndiff:\n%s", n, diff, d)
		}
	}
}

// TestDiffTooLarge: past the table limit the middle is shown as replaced,
// and the diff still applies.
func TestDiffTooLarge(t *testing.T) {
	var old, new []string
	for i := range 2100 {
		old = append(old, "a"+strconv.Itoa(i))
		new = append(new, "b"+strconv.Itoa(i))
	}
	d := unifiedDiff("a", "b", text(old), text(new))
	if got, err := applyDiff(old, d); err != nil || len(got) != len(new) {
		t.Fatalf("applied: %d lines, %v", len(got), err)
	}
}

func randomLines(rng *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('a' + rng.IntN(4)))
	}
	return out
}

func editLines(rng *rand.Rand, lines []string) []string {
	out := append([]string(nil), lines...)
	for range rng.IntN(5) {
		i := rng.IntN(len(out) + 1)
		switch rng.IntN(3) {
		case 0:
			out = append(out[:i], append([]string{"new"}, out[i:]...)...)
		case 1:
			if i < len(out) {
				out = append(out[:i], out[i+1:]...)
			}
		default:
			if i < len(out) {
				out[i] = "changed"
			}
		}
	}
	return out
}

func text(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// applyDiff applies a unified diff to old, checking each hunk's header and
// context lines.
func applyDiff(old []string, d string) ([]string, error) {
	if d == "" {
		return old, nil
	}
	lines := splitLines(d)[2:]
	var out []string
	pos := 0
	for i := 0; i < len(lines); {
		f := strings.Fields(lines[i])
		if len(f) != 4 || f[0] != "@@" || f[3] != "@@" {
			return nil, fmt.Errorf("header %q", lines[i])
		}
		aStart, aLen := parseRange(f[1][1:])
		_, bLen := parseRange(f[2][1:])
		if aLen > 0 {
			aStart--
		}
		out = append(out, old[pos:aStart]...)
		pos = aStart
		gotA, gotB := 0, 0
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "@@"); i++ {
			op, rest := lines[i][0], lines[i][1:]
			if op != '+' {
				if pos >= len(old) || old[pos] != rest {
					return nil, fmt.Errorf("line %d: want %q", pos+1, rest)
				}
				pos++
				gotA++
			}
			if op != '-' {
				out = append(out, rest)
				gotB++
			}
		}
		if gotA != aLen || gotB != bLen {
			return nil, fmt.Errorf("hunk counts %d,%d; header says %d,%d", gotA, gotB, aLen, bLen)
		}
	}
	return append(out, old[pos:]...), nil
}

// parseRange reads "start,len" or "start" (length 1).
func parseRange(s string) (int, int) {
	start, n, found := strings.Cut(s, ",")
	a, _ := strconv.Atoi(start)
	if !found {
		return a, 1
	}
	b, _ := strconv.Atoi(n)
	return a, b
}
