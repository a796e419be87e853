//go:build faults

package faults

import (
	"fmt"
	"testing"
	"time"
)

// TestGitDown: the Git server goes away for -git-outage (connections
// refused) under a converged daemon. Drift must still be reverted during the
// outage, and a commit pushed meanwhile must be applied within one
// --interval of the server's return.
func TestGitDown(t *testing.T) {
	f := newFixture(t, "faults-git")
	interval := min(time.Minute, *gitOutage/5).Round(time.Second)
	r := newResult(t, "Git server down",
		fmt.Sprintf("the Git server stopped (connections refused) for %s under a converged daemon (10 models, --interval %s); a Deployment drifts every %s meanwhile; a commit changing m001 is pushed halfway",
			*gitOutage, interval, interval/2))
	f.repo.Commit(modelFiles("m", 10, 2))
	d := startDaemon(t, f.args("--interval", interval.String())...)
	d.reconciled(t, 0, f.repo.Head(), 3*time.Minute)
	before := f.converged(t, time.Minute)

	mark := d.Mark()
	f.server.Stop()
	t.Cleanup(func() { _ = f.server.Start() })
	stopped := time.Now()
	var lat []time.Duration
	var head string
	healthy, probes := 0, 0
	for i := 0; time.Since(stopped) < *gitOutage; i++ {
		if head == "" && time.Since(stopped) >= *gitOutage/2 {
			head = f.repo.Commit(map[string]string{"models/m001/model.yaml": modelYAML("m001", 3)})
		}
		name := fmt.Sprintf("m%03d", 2+i%8)
		lat = append(lat, f.k.driftMany(t, f.ns, []string{name}, 2, 0)...)
		if _, err := d.get("/healthz"); err == nil {
			healthy++
		}
		probes++
		time.Sleep(min(interval/2, time.Until(stopped.Add(*gitOutage))))
	}
	if err := f.server.Start(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	applied := d.reconciled(t, mark, head, interval+2*time.Minute)
	took := applied.Sub(back)
	if took > interval+10*time.Second {
		t.Errorf("head applied %s after the Git server came back, more than one --interval (%s) and 10 s for the pass", took, interval)
	}
	if replicas, _, err := f.k.deployment(t.Context(), f.ns, "m001"); err != nil || replicas != 3 {
		t.Errorf("m001: %d replicas (%v), want 3", replicas, err)
	}
	f.account(t, r, before, time.Minute)
	failures := len(d.Find(mark, "fetch failed", nil))
	if failures != 1 {
		t.Errorf("%d fetch failed lines for one outage, want 1", failures)
	}
	r.tether("reverted all %d drifts during the outage (%s); /healthz answered %d of %d probes", len(lat), latencies(lat), healthy, probes)
	r.tether("applied the head %s after the server came back (--interval %s)", took.Round(100*time.Millisecond), interval)
	r.figure("%d fetch failed line and %d fetch recovered line for the whole outage", failures, len(d.Find(mark, "fetch recovered", nil)))
}
