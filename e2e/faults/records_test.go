//go:build faults

package faults

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRecordsDeleted: every inventory record is deleted by hand under a
// running daemon. tether must write them again while it runs (its record
// watch), keep reverting drift, and, restarted, still own its objects: a
// commit then removing a model prunes that model's objects, nothing else.
func TestRecordsDeleted(t *testing.T) {
	f := newFixture(t, "faults-records")
	const models = 10
	r := newResult(t, "inventory records deleted by hand",
		fmt.Sprintf("all %d records deleted (kubectl delete configmap -l tether.dev/instance) under a running daemon (--interval 5s), which is restarted afterwards; then a commit removes m009", models))
	f.repo.Commit(modelFiles("m", models, 2))
	args := f.args("--interval", "5s")
	first := startDaemon(t, args...)
	first.reconciled(t, 0, f.repo.Head(), 3*time.Minute)
	before := f.converged(t, time.Minute)

	deleted := time.Now()
	err := f.k.cs.CoreV1().ConfigMaps(f.ns).DeleteCollection(t.Context(), metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "tether.dev/instance"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "every record written again by the running daemon", func() (bool, error) {
		return len(f.k.records(t, f.ns)) == models, nil
	})
	rewritten := time.Since(deleted)
	drift := f.k.driftMany(t, f.ns, []string{"m001", "m002", "m003"}, 2, 200*time.Millisecond)
	if err := first.Stop(30 * time.Second); err != nil {
		t.Error(err)
	}

	second := startDaemon(t, args...)
	head := f.repo.Commit(removal("m009"))
	second.reconciled(t, 0, head, 3*time.Minute)
	f.gone(t, "m009", time.Minute)
	f.account(t, r, before, time.Minute)
	if second.adoptionReported("m009") {
		t.Error("m009's objects were adopted after the restart: its records were not written again")
	}
	r.tether("wrote all %d records again while running, %s after the deletion; drift still reverted (%s); restarted, it still owned every object (none adopted) and pruned m009's objects when it left Git", models, rewritten.Round(100*time.Millisecond), latencies(drift))
}

// adoptionReported: a log line says model's objects were left in place
// because they were adopted (a PruneSkipped event).
func (d *daemon) adoptionReported(model string) bool {
	for _, l := range d.Find(0, "prune skipped", map[string]string{"model": model}) {
		if msg, _ := l.Fields["err"].(string); strings.HasPrefix(msg, "adopted:") {
			return true
		}
	}
	return false
}
