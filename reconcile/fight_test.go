package reconcile

import (
	"sort"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// revertLatency scales a's Deployment to replicas as another field manager
// and returns how long tether took to put Git's 2 back.
func (f *fixture) revertLatency(replicas int) time.Duration {
	f.t.Helper()
	start := time.Now()
	f.scale("a", replicas)
	for time.Since(start) < 40*time.Second {
		d, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "a", metav1.GetOptions{})
		if err == nil && *d.Spec.Replicas == 2 {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.t.Fatalf("replicas %d not reverted after 40s", replicas)
	return 0
}

// TestRepeatedDriftIsRevertedAtOnce: the same Deployment drifted ten times 2 s
// apart, then three times 5 s apart, is reverted within the normal latency
// every time (issue 18: the delay grew fourfold with each drift, 5 s by the
// sixth, because every watch event fed the object's rate limiter).
func TestRepeatedDriftIsRevertedAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 2)}))
	var lat []time.Duration
	for i, gap := range []time.Duration{0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 5, 5, 5} {
		time.Sleep(gap * time.Second)
		lat = append(lat, f.revertLatency(3+i))
	}
	t.Logf("revert latency of 13 drifts of one object: %v", lat)
	for i, d := range lat {
		if d > time.Second {
			t.Errorf("drift %d reverted after %s; want the normal latency (well under a second)", i+1, d)
		}
	}
	if n := len(f.eventsOf(EventFight)); n != 0 {
		t.Errorf("%d fight events for drifts seconds apart", n)
	}
}

// TestFightBacksOffAndSettles: another manager changing the Deployment every
// 300 ms, twenty times, is a fight. tether backs off, says so once with the
// manager and the field, and once the other side stops, Git's value wins.
func TestFightBacksOffAndSettles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 2)}))
	for i := range 20 {
		f.scale("a", 5+i)
		time.Sleep(300 * time.Millisecond)
	}
	eventually(t, DefaultFightPolicy.Max+5*time.Second, "Git's 2 replicas back after the fight", func() bool {
		d, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "a", metav1.GetOptions{})
		return err == nil && *d.Spec.Replicas == 2
	})
	fights := f.eventsOf(EventFight)
	if len(fights) != 1 {
		t.Fatalf("%d fight events, want 1: %+v", len(fights), fights)
	}
	ev := fights[0]
	if ev.Drift.Manager != intruder || ev.Drift.Changes[0].Path != "spec.replicas" || ev.Object.Name != "a" {
		t.Errorf("fight event names manager %q, field %q, object %v; want %s, spec.replicas, a", ev.Drift.Manager, ev.Drift.Changes[0].Path, ev.Object, intruder)
	}
	reverts := f.drifts(ActionReverted)
	if len(reverts) >= 20 {
		t.Errorf("%d reverts for 20 changes: tether did not back off", len(reverts))
	}
	st := f.loop.Status().Units[0]
	if st.LastFight == nil || st.LastFight.Manager != intruder || st.LastFight.Message == "" {
		t.Errorf("/status lastFight = %+v, want the fight with %s", st.LastFight, intruder)
	}
	times := make([]time.Duration, 0, len(reverts))
	for _, r := range reverts[1:] {
		times = append(times, r.Time.Sub(reverts[0].Time).Round(10*time.Millisecond))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("%d reverts for 20 changes, at +%v after the first; %s", len(reverts), times, ev.Message)
}
