package reconcile

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-ml/tether/render"
)

// alwaysDeny is closed at every instant: a window starting every minute
// that lasts two.
var alwaysDeny = render.SyncWindow{Kind: render.WindowDeny, Schedule: "* * * * *", Duration: 2 * time.Minute, RevertDrift: true}

// withWindows renders specs under tether.yaml's windows.
func (f *fixture) withWindows(specs map[string]string, windows ...render.SyncWindow) *render.Result {
	res := f.models(specs)
	res.Settings.SyncWindows = windows
	return res
}

// clock sets the loop's window clock to real time shifted so that it reads
// at now: timers still run in real time.
func (f *fixture) clock(at time.Time) *atomic.Int64 {
	var offset atomic.Int64
	offset.Store(int64(time.Until(at)))
	f.loop.holds.now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	return &offset
}

func (f *fixture) replicas(name string) (int32, string) {
	f.t.Helper()
	dep, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return *dep.Spec.Replicas, dep.Annotations[render.AnnotationRev]
}

func (f *fixture) unitStatusOf(name string) UnitStatus {
	for _, u := range f.loop.Status().Units {
		if u.Name == name {
			return u
		}
	}
	f.t.Fatalf("unit %s not in /status", name)
	return UnitStatus{}
}

// TestSyncWindowHoldsANewRevision: under an always-closed deny window a
// model's change waits, a new model is not created and a removed one not
// pruned; drift is still reverted against the record's revision; SyncHeld
// comes once per model and held content; a revision that removes the window
// releases everything at once.
func TestSyncWindowHoldsANewRevision(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1), "gone": servingSpec("gone", imgB, 1)}))
	changed := map[string]string{"a": servingSpec("a", imgA, 3), "new": servingSpec("new", imgB, 1)}

	f.pass("rev2", f.withWindows(changed, alwaysDeny))
	if n, rev := f.replicas("a"); n != 1 || rev != "rev1" {
		t.Errorf("held model a: %d replicas at %s, want 1 at rev1", n, rev)
	}
	if _, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "new", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a model added during a deny window was created (err %v)", err)
	}
	if _, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "gone", metav1.GetOptions{}); err != nil {
		t.Errorf("a model removed during a deny window was pruned: %v", err)
	}
	st := f.unitStatusOf("a")
	if st.State != StateSyncBlocked || st.Health == "" || st.LastApplied != "rev1" || st.SyncBlocked == nil ||
		st.SyncBlocked.Revision != "rev2" || len(st.SyncBlocked.Windows) != 1 || st.SyncBlocked.Opens != nil {
		t.Errorf("status of a = %+v (hold %+v), want SyncBlocked at rev1 holding rev2 with no opening", st, st.SyncBlocked)
	}
	for _, unit := range []string{"a", "new", "gone"} {
		if got := testutil.ToFloat64(f.metrics.syncBlockedUnits.WithLabelValues(unit)); got != 1 {
			t.Errorf("tether_sync_blocked{model=%s} = %v, want 1", unit, got)
		}
	}

	f.pass("rev3", f.withWindows(changed, alwaysDeny)) // an unrelated commit: a's content is the same
	held := map[string]int{}
	for _, ev := range f.eventsOf(EventSyncHeld) {
		held[ev.Unit]++
		if ev.Unit == "a" && (ev.Revision != "rev2" || !strings.Contains(ev.Message, `deny "* * * * *" for 2m`)) {
			t.Errorf("SyncHeld of a = %+v", ev)
		}
	}
	if held["a"] != 1 || held["new"] != 1 || held["gone"] != 1 {
		t.Errorf("SyncHeld events per unit = %v, want one each for a, new and gone", held)
	}

	f.scale("a", 7)
	f.driftEvent(ActionReverted, "Deployment/"+f.ns+"/a", "spec.replicas")
	if n, _ := f.replicas("a"); n != 1 {
		t.Errorf("drift of a held model reverted to %d replicas, want the record's 1", n)
	}

	f.pass("rev4", f.models(changed)) // tether.yaml without the window
	if n, rev := f.replicas("a"); n != 3 || rev != "rev4" {
		t.Errorf("released model a: %d replicas at %s, want 3 at rev4", n, rev)
	}
	if _, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "gone", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("model gone not pruned once the window was removed (err %v)", err)
	}
	if st := f.unitStatusOf("a"); st.State == StateSyncBlocked || st.SyncBlocked != nil {
		t.Errorf("status of a after the release = %+v", st)
	}
	if got := testutil.ToFloat64(f.metrics.syncBlockedUnits.WithLabelValues("a")); got != 0 {
		t.Errorf("tether_sync_blocked{model=a} = %v after the release, want 0", got)
	}
}

// TestSyncWindowOpensOnTime: the timer wakes the loop when the window closes,
// and the next pass applies the held revision although the head stayed.
func TestSyncWindowOpensOnTime(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1)}))
	night := render.SyncWindow{Kind: render.WindowDeny, Schedule: "0 0 * * *", Duration: time.Hour, RevertDrift: true}
	opens := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	f.clock(opens.Add(-5 * time.Second))

	f.pass("rev2", f.withWindows(map[string]string{"a": servingSpec("a", imgA, 2)}, night))
	st := f.unitStatusOf("a")
	if st.SyncBlocked == nil || st.SyncBlocked.Opens == nil || !st.SyncBlocked.Opens.Equal(opens) {
		t.Fatalf("hold = %+v, want one that opens at %s", st.SyncBlocked, opens)
	}
	f.pass("rev2", f.res) // the head did not move and the window is still closed: nothing to do
	if n, _ := f.replicas("a"); n != 1 && f.loop.holds.clock().Before(opens) {
		t.Fatalf("applied before the window opened: %d replicas", n)
	}
	select {
	case <-f.loop.wake:
	case <-time.After(15 * time.Second):
		t.Fatal("the window closed but the loop was not woken")
	}
	f.pass("rev2", f.res)
	if n, rev := f.replicas("a"); n != 2 || rev != "rev2" {
		t.Errorf("after the window closed: %d replicas at %s, want 2 at rev2", n, rev)
	}
}

// TestSyncRequestedByHand: with manualSync: true, an annotation on the
// model's record newer than the hold syncs the held revision once; a bad
// value is shown in /status and ignored.
func TestSyncRequestedByHand(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1)}))
	manual := alwaysDeny
	manual.ManualSync = true
	f.pass("rev2", f.withWindows(map[string]string{"a": servingSpec("a", imgA, 2)}, manual))
	record := parentName(f.instance, "model", "a")

	f.annotate(record, "next tuesday")
	f.pass("rev2", f.res)
	st := f.unitStatusOf("a")
	if n, _ := f.replicas("a"); n != 1 || st.SyncBlocked == nil || !st.SyncBlocked.ManualSync ||
		!strings.Contains(st.SyncBlocked.Request, `"next tuesday" is not an RFC 3339 time`) {
		t.Fatalf("a bad request: %d replicas, hold %+v", n, st.SyncBlocked)
	}

	f.annotate(record, st.SyncBlocked.Since.Add(time.Millisecond).UTC().Format(time.RFC3339Nano))
	f.pass("rev2", f.res)
	if n, rev := f.replicas("a"); n != 2 || rev != "rev2" {
		t.Fatalf("after a sync request: %d replicas at %s, want 2 at rev2", n, rev)
	}
	f.pass("rev3", f.withWindows(map[string]string{"a": servingSpec("a", imgA, 3)}, manual))
	if n, _ := f.replicas("a"); n != 2 {
		t.Errorf("a request made before the next hold synced it too: %d replicas", n)
	}
	if st := f.unitStatusOf("a"); st.SyncBlocked == nil || !strings.Contains(st.SyncBlocked.Request, "is not after the hold began") {
		t.Errorf("hold after the request = %+v", st.SyncBlocked)
	}
}

func (f *fixture) annotate(configMap, value string) {
	f.t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, AnnotationSyncRequested, value)
	_, err := f.cs.CoreV1().ConfigMaps(f.ns).Patch(f.ctx, configMap, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-annotate"})
	if err != nil {
		f.t.Fatal(err)
	}
}

// TestSyncWindowWithoutReverts: while a window with revertDrift: false is
// active, drift is reported, not reverted; when it ends, it is reverted.
func TestSyncWindowWithoutReverts(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1)}))
	frozen := render.SyncWindow{Kind: render.WindowDeny, Schedule: "0 0 * * *", Duration: time.Hour}
	offset := f.clock(time.Date(2026, 11, 28, 0, 30, 0, 0, time.UTC))
	f.pass("rev2", f.withWindows(map[string]string{"a": servingSpec("a", imgA, 1)}, frozen))

	f.scale("a", 4)
	f.driftEvent(ActionReported, "Deployment/"+f.ns+"/a", "spec.replicas")
	if got := f.drifts(ActionReverted); len(got) != 0 {
		t.Fatalf("reverted while revertDrift: false: %+v", got)
	}
	f.loop.holds.mu.Lock()
	wakeAt := f.loop.holds.wakeAt
	f.loop.holds.due = true // 01:30, below: the window is over, and its timer fired
	f.loop.holds.mu.Unlock()
	if want := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC); !wakeAt.Equal(want) {
		t.Fatalf("timer set for %s, want the end of the window at %s", wakeAt, want)
	}
	offset.Add(int64(time.Hour))
	f.pass("rev2", f.res)
	f.driftEvent(ActionReverted, "Deployment/"+f.ns+"/a", "spec.replicas")
	if n, _ := f.replicas("a"); n != 1 {
		t.Errorf("%d replicas after the window, want 1", n)
	}
}

// TestSyncWindowAcrossRestart: a daemon restarted during a hold still holds
// the revision and still reverts drift of the objects it does not change.
func TestSyncWindowAcrossRestart(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1)}))
	f.start()
	f.pass("rev2", f.withWindows(map[string]string{"a": servingSpec("a", imgA, 5)}, alwaysDeny))
	if n, rev := f.replicas("a"); n != 1 || rev != "rev1" {
		t.Fatalf("held after a restart: %d replicas at %s, want 1 at rev1", n, rev)
	}
	_, err := f.cs.CoreV1().Services(f.ns).Patch(f.ctx, "a", types.StrategicMergePatchType,
		[]byte(`{"spec":{"ports":[{"port":80,"targetPort":9999}]}}`), metav1.PatchOptions{FieldManager: intruder})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the Service's drift reverted", func() bool {
		for _, ev := range f.drifts(ActionReverted) {
			if ev.Object != nil && ev.Object.String() == "Service/"+f.ns+"/a" {
				return true
			}
		}
		return false
	})
}
