package reconcile

import "testing"

// TestRecordSavedSinceStartIsDeletedWhenItsUnitLeaves: without leader
// election, the record of a unit that leaves Git is deleted even when it was
// saved again after the daemon read it at start. Its resourceVersion from
// the start, sent as a precondition, made the delete a conflict, which is
// reported as fenced and stops a running daemon.
func TestRecordSavedSinceStartIsDeletedWhenItsUnitLeaves(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", result(bundleUnit(t, "a", f.configMap("a1")), bundleUnit(t, "b", f.configMap("b1"))))
	f.start() // a restart reads the records, with their resourceVersions
	f.pass("rev2", result(bundleUnit(t, "a", f.configMap("a1")), bundleUnit(t, "b", f.configMap("b2"))))
	leaving := result(bundleUnit(t, "a", f.configMap("a1")))
	f.pass("rev3", leaving)
	f.pass("rev3", leaving) // a retry, if the first pass left the record
	if n := f.recordCount(); n != 1 {
		t.Errorf("%d records after bundle b left Git, want 1 (a's)", n)
	}
	for _, ev := range f.eventsOf(EventSyncFailed) {
		t.Errorf("sync failed: %s: %s", ev.Unit, ev.Message)
	}
}
