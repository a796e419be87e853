package preview

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// Target is a ref that may get a preview.
type Target struct {
	ID       string    // render.PreviewID of the ref's capture
	Ref      string    // e.g. refs/pull/7/head
	Revision string    // the ref's commit
	Expires  time.Time // zero: never (no TTL)
}

// Candidate is a listed ref and since when its head has not moved: the
// earlier of its commit's time and the time this daemon first saw it there,
// so neither an old commit pushed anew nor a commit dated in the future
// outlives the TTL.
type Candidate struct {
	source.Head
	Since time.Time
}

// Left is a live ref that gets no preview, and why.
type Left struct {
	Target
	Reason string
}

// Selection is which refs get a preview.
type Selection struct {
	Wanted  []Target // lowest ids first, at most max
	Left    []Left   // live refs over the cap, or whose id another ref took
	Expired []Target // refs whose head has not moved for the TTL
}

// Select picks the previews: every candidate whose head moved within ttl
// (0: no expiry), lowest ids first (numbers in numeric order, before hashed
// ids), at most max of them. Two refs with the same id (two patterns whose *
// stands for the same number) keep the first by ref name.
func Select(cands []Candidate, now time.Time, ttl time.Duration, maxPreviews int) Selection {
	var sel Selection
	var live []Target
	for _, c := range cands {
		t := Target{ID: render.PreviewID(c.Capture), Ref: c.Ref, Revision: c.Revision}
		if ttl > 0 {
			t.Expires = c.Since.Add(ttl)
			if !now.Before(t.Expires) {
				sel.Expired = append(sel.Expired, t)
				continue
			}
		}
		live = append(live, t)
	}
	sort.SliceStable(live, func(i, j int) bool {
		if live[i].ID != live[j].ID {
			return lessID(live[i].ID, live[j].ID)
		}
		return live[i].Ref < live[j].Ref
	})
	for i, t := range live {
		switch {
		case i > 0 && live[i-1].ID == t.ID:
			sel.Left = append(sel.Left, Left{t, fmt.Sprintf("%s has the same preview id %s", live[i-1].Ref, t.ID)})
		case len(sel.Wanted) >= maxPreviews:
			sel.Left = append(sel.Left, Left{t, fmt.Sprintf("--preview-max %d: lower ids have the previews", maxPreviews)})
		default:
			sel.Wanted = append(sel.Wanted, t)
		}
	}
	return sel
}

// lessID orders ids: numbers by value, then hashed ids by text.
func lessID(a, b string) bool {
	na, errA := strconv.ParseUint(a, 10, 64)
	nb, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return na < nb
	case errA == nil || errB == nil:
		return errA == nil
	}
	return a < b
}
