package reconcile

import (
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// defaultKeepRuns applies when a Job carries no keep-runs annotation.
const defaultKeepRuns = 3

// runInfo is what keepRuns needs to know about one training Job.
type runInfo struct {
	Key      Key
	Created  time.Time
	Finished bool
	Desired  bool // the Job of the current training spec
}

// retainRuns returns the training Jobs to delete: finished runs beyond keep,
// oldest first. The current Job and running Jobs are never deleted.
func retainRuns(runs []runInfo, keep int) []Key {
	sort.Slice(runs, func(i, j int) bool { return runs[i].Created.After(runs[j].Created) })
	var del []Key
	finished := 0
	for _, r := range runs {
		switch {
		case r.Desired:
			if r.Finished {
				finished++
			}
		case !r.Finished:
		case finished < keep:
			finished++
		default:
			del = append(del, r.Key)
		}
	}
	return del
}

func jobFinished(job *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(job.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if (m["type"] == "Complete" || m["type"] == "Failed") && m["status"] == "True" {
			return true
		}
	}
	return false
}

// keepRunsOf is the keepRuns a unit's training Jobs carry, or the default.
func keepRunsOf(objs []desired) int {
	for _, d := range objs {
		if d.keepRuns > 0 {
			return d.keepRuns
		}
	}
	return defaultKeepRuns
}
