//go:build faults

package faults

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/cluster"
)

// TestEtcdStopped: etcd stops under a converged daemon; a commit that changes
// one model and removes another arrives during the outage. Once etcd is
// back the commit is applied, drift is reverted, and nothing else is touched.
func TestEtcdStopped(t *testing.T) {
	f := newFixture(t, "faults-etcd")
	r := newResult(t, "etcd stopped",
		fmt.Sprintf("etcd stopped for %s under a converged daemon (20 models, --interval 10s); meanwhile a commit changes m001's replicas and removes m019", *etcdOutage))
	files := modelFiles("m", 20, 2)
	head := f.repo.Commit(files)
	d := startDaemon(t, f.args("--interval", "10s")...)
	d.reconciled(t, 0, head, 3*time.Minute)
	before := f.converged(t, time.Minute)
	driftBefore := f.k.driftMany(t, f.ns, []string{"m002", "m003", "m004", "m005", "m006"}, 2, 200*time.Millisecond)

	mark := d.Mark()
	out := f.stopEtcd(t, d, func() {
		change := removal("m019")
		change["models/m001/model.yaml"] = modelYAML("m001", 3)
		f.repo.Commit(change)
	})
	next := f.repo.Head()
	applied := d.reconciled(t, mark, next, 3*time.Minute)
	if replicas, _, err := f.k.deployment(t.Context(), f.ns, "m001"); err != nil || replicas != 3 {
		t.Errorf("m001 after the commit: %d replicas (%v), want 3", replicas, err)
	}
	f.gone(t, "m019", time.Minute)
	driftAfter := f.k.driftMany(t, f.ns, []string{"m002", "m003", "m004", "m005", "m006"}, 2, 200*time.Millisecond)
	f.account(t, r, before, time.Minute)
	if !d.Running() {
		t.Error("the daemon exited")
	}
	r.tether("kept running (/healthz answered %d of %d probes during the outage)", out.healthy, out.probes)
	r.tether("applied the commit (m001 at 3 replicas, m019's objects pruned) %s after etcd started; reverted drift before and after",
		applied.Sub(out.started).Round(100*time.Millisecond))
	r.figure("API ready %s after etcd started", out.apiReady.Round(100*time.Millisecond))
	r.figure("drift revert before %s; after %s", latencies(driftBefore), latencies(driftAfter))
	r.figure("%d error lines logged", len(d.errorLines(mark)))
}

// outage is what stopEtcd saw.
type outage struct {
	healthy, probes int           // the daemon's /healthz during the outage
	started         time.Time     // etcd started again
	apiReady        time.Duration // from started until the API server was ready
}

// stopEtcd stops etcd for -etcd-outage, calls during once it is down, and
// probes the daemon's /healthz every second meanwhile.
func (f *fixture) stopEtcd(t *testing.T, d *daemon, during func()) outage {
	t.Helper()
	c := cluster.Shared()
	t.Cleanup(func() { _ = c.StartComponent(context.Background(), cluster.Etcd) }) // whatever happens, the next case has etcd
	stopped := time.Now()
	if err := c.StopComponent(cluster.Etcd); err != nil {
		t.Fatal(err)
	}
	during()
	var out outage
	for time.Since(stopped) < *etcdOutage {
		if _, err := d.get("/healthz"); err == nil {
			out.healthy++
		}
		out.probes++
		time.Sleep(time.Second)
	}
	out.started = time.Now()
	if err := c.StartComponent(t.Context(), cluster.Etcd); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "API server ready", func() (bool, error) {
		body, err := f.k.cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(t.Context())
		return err == nil && string(body) == "ok", err
	})
	out.apiReady = time.Since(out.started)
	return out
}
