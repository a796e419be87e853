package reconcile

import (
	"testing"
	"time"
)

// simulate has an actor change one object at each of changes (offsets from
// t0) and tether revert it as the fight policy allows, with latency between
// seeing a drift and its revert landing. Checks without drift (status
// updates, tether's own echo) come between. It returns how long each change
// waited for its revert, and how many times tether announced a backoff.
func simulate(p FightPolicy, changes []time.Duration, latency time.Duration) (waits []time.Duration, backoffs int) {
	f := newFights(p)
	key := Key{Group: "apps", Kind: "Deployment", Namespace: "ml", Name: "a"}
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	var pending bool
	var due, since time.Time
	revertDue := func(until time.Time) {
		if pending && !due.After(until) {
			f.reverted(key, due.Add(latency))
			waits = append(waits, due.Add(latency).Sub(since))
			pending = false
			f.settled(key) // the revert's own watch event finds nothing
		}
	}
	check := func(now time.Time) {
		wait, backoff := f.decide(key, now)
		if backoff {
			backoffs++
		}
		due = now.Add(wait)
	}
	for _, c := range changes {
		now := t0.Add(c)
		revertDue(now)
		if !pending {
			f.settled(key) // a status update finds the object as tether left it
			pending, since = true, now
		}
		check(now)
		for range 3 { // more watch events while it waits: they must not grow anything
			check(now)
		}
	}
	for pending {
		revertDue(due)
		if pending {
			check(due)
		}
	}
	return waits, backoffs
}

func every(n int, gap time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i) * gap
	}
	return out
}

func TestFightBackoffCountsOnlyFights(t *testing.T) {
	latency := 40 * time.Millisecond
	tests := []struct {
		name         string
		changes      []time.Duration
		maxWait      time.Duration // longest any change may wait for its revert
		wantBackoffs int
	}{
		{"ten drifts 2 s apart: each reverted at once", every(10, 2*time.Second), latency, 0},
		{"ten drifts 30 s apart", every(10, 30*time.Second), latency, 0},
		{"a hundred drifts 1.1 s apart", every(100, 1100*time.Millisecond), latency, 0},
		{"five quick drifts are still free", every(5, 300*time.Millisecond), latency, 0},
		{"twenty changes 300 ms apart: a fight, announced once", every(20, 300*time.Millisecond), 10 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waits, backoffs := simulate(DefaultFightPolicy, tt.changes, latency)
			for i, w := range waits {
				if w > tt.maxWait {
					t.Errorf("revert %d waited %s, want at most %s (all: %v)", i+1, w, tt.maxWait, waits)
				}
			}
			if backoffs != tt.wantBackoffs {
				t.Errorf("%d backoffs announced, want %d", backoffs, tt.wantBackoffs)
			}
		})
	}
}

// TestFightSlowsDownAndSettles: in a fight the waits grow, reverts are fewer
// than the other side's changes, and the last change is still reverted: Git
// wins once the other side stops.
func TestFightSlowsDownAndSettles(t *testing.T) {
	changes := every(20, 300*time.Millisecond)
	waits, _ := simulate(DefaultFightPolicy, changes, 40*time.Millisecond)
	t.Logf("waits for the reverts of 20 changes 300 ms apart: %v", waits)
	if len(waits) >= len(changes) {
		t.Errorf("%d reverts for %d changes: tether did not back off", len(waits), len(changes))
	}
	last := waits[len(waits)-1]
	if last < DefaultFightPolicy.Base {
		t.Errorf("last revert waited %s, want a backoff of at least %s (all: %v)", last, DefaultFightPolicy.Base, waits)
	}
	if last > DefaultFightPolicy.Max+time.Second {
		t.Errorf("last revert waited %s, more than the cap %s", last, DefaultFightPolicy.Max)
	}
}

// TestFightDecays: after a fight, a drift seen more than Gap after the last
// revert is reverted at once again.
func TestFightDecays(t *testing.T) {
	changes := append(every(12, 300*time.Millisecond), 20*time.Second, 22*time.Second)
	waits, backoffs := simulate(DefaultFightPolicy, changes, 40*time.Millisecond)
	for _, w := range waits[len(waits)-2:] {
		if w > 40*time.Millisecond {
			t.Errorf("a drift after the fight waited %s (all: %v)", w, waits)
		}
	}
	if backoffs != 1 {
		t.Errorf("%d backoffs announced, want 1", backoffs)
	}
}

func TestFightsForgetIdleObjects(t *testing.T) {
	f := newFights(DefaultFightPolicy)
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for i := range 100 {
		key := Key{Kind: "Service", Namespace: "ml", Name: string(rune('a'+i%26)) + string(rune('a'+i/26))}
		f.decide(key, t0)
		f.reverted(key, t0)
		f.settled(key)
	}
	f.decide(Key{Kind: "Service", Name: "late"}, t0.Add(2*time.Minute))
	if n := f.tracked(); n != 1 {
		t.Errorf("%d objects tracked after every other was idle for 2 min, want 1", n)
	}
}

func TestFirstReport(t *testing.T) {
	f := newFights(DefaultFightPolicy)
	key := Key{Kind: "Service", Namespace: "ml", Name: "a"}
	now := time.Now()
	steps := []struct {
		fingerprint string
		settle      bool
		want        bool
	}{
		{"replicas=5", false, true},
		{"replicas=5", false, false}, // the same drift, seen again at a status update
		{"replicas=6", false, true},
		{"", true, false},
		{"replicas=6", false, true}, // drifted again after it was set back
	}
	for i, s := range steps {
		if s.settle {
			f.settled(key)
			continue
		}
		if got := f.firstReport(key, s.fingerprint, now); got != s.want {
			t.Errorf("step %d: firstReport(%q) = %v, want %v", i, s.fingerprint, got, s.want)
		}
	}
}
