package reconcile

import (
	"fmt"
	"strconv"
	"strings"
)

// minBlockedDeletions: the percentage guard never blocks fewer deletions than this.
const minBlockedDeletions = 10

// PruneLimit is --max-prune: a share of the managed objects ("50%") or a count ("25").
type PruneLimit struct {
	Percent int // used when IsPercent
	Count   int
	IsCount bool
}

// ParsePruneLimit parses "N%" or "N".
func ParsePruneLimit(s string) (PruneLimit, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 100 {
			return PruneLimit{}, fmt.Errorf("%q: expected a percentage 0%%-100%% or a count", s)
		}
		return PruneLimit{Percent: n}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return PruneLimit{}, fmt.Errorf("%q: expected a percentage such as 50%% or a count such as 25", s)
	}
	return PruneLimit{Count: n, IsCount: true}, nil
}

func (p PruneLimit) String() string {
	if p.IsCount {
		return strconv.Itoa(p.Count)
	}
	return strconv.Itoa(p.Percent) + "%"
}

// Blocks reports whether deleting deletions of managed objects exceeds the
// limit. A percentage never blocks fewer than 10 deletions.
func (p PruneLimit) Blocks(deletions, managed int) bool {
	if p.IsCount {
		return deletions > p.Count
	}
	return deletions > max(managed*p.Percent/100, minBlockedDeletions)
}
