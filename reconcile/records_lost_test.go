package reconcile

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRecordDeletedWhileRunningIsWrittenAgain (issue 11, found by the fault
// suite, e2e/faults TestRecordsDeleted): records deleted by hand under a
// running daemon must be written again while it runs, with what it knows —
// objects it created stay its own, not adopted. Otherwise a later restart
// adopts everything, and an object that then leaves Git is left behind
// instead of pruned.
func TestRecordDeletedWhileRunningIsWrittenAgain(t *testing.T) {
	f := newFixture(t)
	both := result(bundleUnit(t, "a", f.configMap("a1")), bundleUnit(t, "b", f.configMap("b1")))
	f.pass("rev1", both)
	b1 := f.mustExist("b1", "")
	err := f.cs.CoreV1().ConfigMaps(f.ns).DeleteCollection(f.ctx, metav1.DeleteOptions{},
		metav1.ListOptions{LabelSelector: LabelInstance + "=" + f.instance})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.recordCount() < 2 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		f.pass("rev1", both) // the next polls: the head has not moved
	}
	if n := f.recordCount(); n != 2 {
		t.Errorf("%d records 10 s after they were deleted under the running loop, want both written again", n)
	}

	f.start() // a restart, then b leaves Git
	f.pass("rev2", result(bundleUnit(t, "a", f.configMap("a1"))))
	if _, err := f.getConfigMap("b1"); err == nil {
		t.Errorf("ConfigMap b1 (uid %s), which tether created, is left behind when its bundle left Git: its record was lost, so it was adopted", b1.UID)
	}
}

// recordCount is the number of this instance's records in the namespace.
func (f *fixture) recordCount() int {
	f.t.Helper()
	list, err := f.cs.CoreV1().ConfigMaps(f.ns).List(f.ctx, metav1.ListOptions{LabelSelector: LabelInstance + "=" + f.instance})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(list.Items)
}
