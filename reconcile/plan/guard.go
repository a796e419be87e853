package plan

import (
	"fmt"

	"github.com/tether-ml/tether/reconcile"
)

// decideGuard is the daemon's mass-deletion guard (reconcile's prune step)
// applied to a planned revision: deletions of managed objects, whether the
// revision renders no unit at all, and its tether.yaml's allowMassPrune.
func decideGuard(limit reconcile.PruneLimit, deletions, managed int, rendersNothing, allow bool) Guard {
	g := Guard{Deletions: deletions, Managed: managed, Limit: limit.String(), AllowMassPrune: allow}
	if deletions == 0 || allow {
		return g
	}
	switch {
	case rendersNothing && managed > 0:
		g.Reason = fmt.Sprintf("the revision renders no models while %d objects are managed; set allowMassPrune: true in tether.yaml to allow it", managed)
	case limit.Blocks(deletions, managed):
		g.Reason = fmt.Sprintf("%d of %d managed objects would be deleted, more than --max-prune %s; set allowMassPrune: true in tether.yaml for this change or raise --max-prune", deletions, managed, limit)
	}
	g.Blocked = g.Reason != ""
	return g
}

// countDeletions counts the objects units would delete.
func countDeletions(units []Unit) int {
	n := 0
	for _, u := range units {
		for _, o := range u.Objects {
			if o.Action == ActionDelete {
				n++
			}
		}
	}
	return n
}
