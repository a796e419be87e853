package preview_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/reconcile/preview"
	"github.com/tether-ml/tether/source"
)

func cand(ref, capture string, since time.Time) preview.Candidate {
	return preview.Candidate{Head: source.Head{Ref: ref, Capture: capture, Revision: "c-" + capture}, Since: since}
}

// ids lists "id ref" of targets, for compact comparisons.
func ids[T any](items []T, target func(T) preview.Target) []string {
	var out []string
	for _, it := range items {
		t := target(it)
		out = append(out, t.ID+" "+t.Ref)
	}
	return out
}

func TestSelect(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	fresh, old := now.Add(-time.Hour), now.Add(-73*time.Hour)
	pr := func(n string, since time.Time) preview.Candidate { return cand("refs/pull/"+n+"/head", n, since) }
	tests := []struct {
		name                  string
		cands                 []preview.Candidate
		ttl                   time.Duration
		max                   int
		wanted, left, expired []string
	}{
		{"lowest ids win, numerically", []preview.Candidate{pr("10", fresh), pr("9", fresh), pr("100", fresh)}, 72 * time.Hour, 2,
			[]string{"9 refs/pull/9/head", "10 refs/pull/10/head"}, []string{"100 refs/pull/100/head"}, nil},
		{"expired refs leave room", []preview.Candidate{pr("1", old), pr("2", old), pr("3", fresh)}, 72 * time.Hour, 1,
			[]string{"3 refs/pull/3/head"}, nil, []string{"1 refs/pull/1/head", "2 refs/pull/2/head"}},
		{"no TTL", []preview.Candidate{pr("1", old)}, 0, 5, []string{"1 refs/pull/1/head"}, nil, nil},
		{"hashed ids after numbers", []preview.Candidate{cand("refs/heads/preview/x", "x", fresh), pr("5", fresh)}, 2 * time.Hour, 5,
			[]string{"5 refs/pull/5/head", "2d711642 refs/heads/preview/x"}, nil, nil},
		{"one id, two refs", []preview.Candidate{cand("refs/pull/4/head", "4", fresh), cand("refs/merge-requests/4/head", "4", fresh)}, 2 * time.Hour, 5,
			[]string{"4 refs/merge-requests/4/head"}, []string{"4 refs/pull/4/head"}, nil},
		{"max 0", []preview.Candidate{pr("1", fresh)}, 2 * time.Hour, 0, nil, []string{"1 refs/pull/1/head"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel := preview.Select(tt.cands, now, tt.ttl, tt.max)
			self := func(t preview.Target) preview.Target { return t }
			got := [][]string{ids(sel.Wanted, self), ids(sel.Left, func(l preview.Left) preview.Target { return l.Target }), ids(sel.Expired, self)}
			if diff := cmp.Diff([][]string{tt.wanted, tt.left, tt.expired}, got); diff != "" {
				t.Errorf("wanted, left, expired (-want +got):\n%s", diff)
			}
			for _, w := range sel.Wanted {
				if tt.ttl > 0 && !w.Expires.After(now) {
					t.Errorf("%s expires %s, want after now", w.Ref, w.Expires)
				}
			}
		})
	}
}
