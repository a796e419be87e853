//go:build faults

package faults

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/e2e/cluster"
)

// TestAPIServerRestartedMidApply: kube-apiserver is restarted while tether
// applies -models models for the first time. tether must finish the
// revision once the API is back, create every object once (no duplicate
// training run) and record every model.
func TestAPIServerRestartedMidApply(t *testing.T) {
	f := newFixture(t, "faults-apiserver")
	n := *applyModels
	r := newResult(t, "kube-apiserver restarted mid-apply",
		fmt.Sprintf("cold apply of %d models (%d objects) with the controllers running; kube-apiserver restarted (SIGTERM, start, /readyz) once a third of the objects existed", n, 3*n))
	head := f.repo.Commit(modelFiles("m", n, 1))
	want := f.expected(t)
	began := time.Now()
	d := startDaemon(t, f.args("--interval", "10s")...)
	var atRestart uids
	eventually(t, 10*time.Minute, "a third of the objects applied", func() (bool, error) {
		var err error
		atRestart, err = f.k.live(t.Context(), want)
		return len(atRestart)-len(f.victims) >= n, err
	})
	mark := d.Mark()
	restarted := time.Now()
	if err := cluster.Shared().RestartComponent(t.Context(), cluster.APIServer); err != nil {
		t.Fatal(err)
	}
	down := time.Since(restarted)
	before := f.k.mustLive(t, want)
	maps.Copy(before, atRestart) // an object created before the restart is the one that must stay
	done := d.reconciled(t, mark, head, 15*time.Minute)
	drift := f.k.driftMany(t, f.ns, []string{"m000", "m001", "m002", "m003", "m004"}, 1, 200*time.Millisecond)
	f.account(t, r, before, time.Minute)
	jobs, records := f.count(t)
	if jobs != n || records != n {
		t.Errorf("%d training Jobs and %d records, want %d of each", jobs, records, n)
	}
	if !d.Running() {
		t.Error("the daemon exited")
	}
	passes := len(d.Find(mark, "revision reconciled", nil))
	r.tether("kept running; finished the revision %s after the API server was back (%d passes ended after the restart)",
		done.Sub(restarted.Add(down)).Round(100*time.Millisecond), passes)
	r.tether("%d training Jobs and %d records for %d models; drift reverted after the restart", jobs, records, n)
	r.figure("%d of %d objects existed at the restart; API down %s", len(atRestart)-len(f.victims), 3*n, down.Round(100*time.Millisecond))
	r.figure("whole apply %s; %d error lines logged (the applies the restart broke)", done.Sub(began).Round(time.Second), len(d.errorLines(mark)))
	r.figure("drift revert after the restart %s", latencies(drift))
}

// count counts the training Jobs tether made in the namespace and its records.
func (f *fixture) count(t *testing.T) (jobs, records int) {
	t.Helper()
	ctx := context.Background()
	list, err := f.k.cs.BatchV1().Jobs(f.ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=training"})
	if err != nil {
		t.Fatal(err)
	}
	return len(list.Items), len(f.k.records(t, f.ns))
}
