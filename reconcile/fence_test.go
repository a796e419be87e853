package reconcile

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/render"
)

// fakeLeader is a Leader a test steers: its term and whether it may write.
type fakeLeader struct {
	mu   sync.Mutex
	term int64
	ok   bool
}

func (l *fakeLeader) Term() (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.term, l.ok
}

func (l *fakeLeader) set(ok bool) {
	l.mu.Lock()
	l.ok = ok
	l.mu.Unlock()
}

func (f *fixture) configMapWith(name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}\ndata: {k: %q}\n", name, f.ns, value)
}

// TestFencedReplicaWritesNothing (issue 12): a replica that still believes
// it leads after another one took over — client-go's election allows it, e.g.
// after SIGSTOP — must not apply its older revision or prune: the
// compare-and-set on the unit's record fails before its first write, and a
// replica whose lease ran out does not even try.
func TestFencedReplicaWritesNothing(t *testing.T) {
	f := newFixture(t)
	old := &fakeLeader{term: 1, ok: true}
	f.leader = old
	f.start()
	f.pass("rev1", result(bundleUnit(t, "a", f.configMapWith("a1", "rev1"), f.configMap("doomed"))))

	// a new leader of the same instance reads the records and applies rev2
	g := &fixture{t: t, ctx: f.ctx, ns: f.ns, cs: f.cs, src: &fakeSource{}, maxPrune: f.maxPrune, instance: f.instance, leader: &fakeLeader{term: 2, ok: true}}
	g.start()
	g.pass("rev2", result(bundleUnit(t, "a", f.configMapWith("a1", "rev2"), f.configMap("doomed"))))

	// the old leader wakes up with work of an older revision: a changed
	// object, a new one, and a prune
	applies := f.requests("apply") + f.requests("delete")
	f.pass("rev1b", result(bundleUnit(t, "a", f.configMapWith("a1", "stale"), f.configMap("extra"))))
	if got := f.mustExist("a1", "").Data["k"]; got != "rev2" {
		t.Errorf("a1 = %q after the fenced replica's pass, want the new leader's rev2", got)
	}
	f.mustExist("doomed", "")
	f.mustBeGone("extra")
	if n := f.requests("apply") + f.requests("delete") - applies; n != 0 {
		t.Errorf("the fenced replica sent %d applies or deletes", n)
	}
	if evs := f.eventsOf(EventSyncFailed); len(evs) == 0 || !strings.Contains(evs[0].Message, "fenced") {
		t.Errorf("SyncFailed events = %+v, want the fence named", evs)
	}

	// a replica whose lease ran out writes nothing, even where no record moved
	old.set(false)
	writes := f.requests("apply") + f.requests("put") + f.requests("post")
	f.pass("rev4", result(bundleUnit(t, "z", f.configMap("z1"))))
	f.mustBeGone("z1")
	if n := f.requests("apply") + f.requests("put") + f.requests("post") - writes; n != 0 {
		t.Errorf("a replica whose lease ran out sent %d writes", n)
	}
}

// TestLeaderRecordsKeepTheirShardGroup: a record written by a leader (a
// compare-and-set) carries the shard group as one saved without leader
// election does; without it the other shards of the group do not recognise
// the record (no handover when a model moves) and every start rewrites it.
func TestLeaderRecordsKeepTheirShardGroup(t *testing.T) {
	f := newFixture(t)
	f.leader, f.group = &fakeLeader{term: 1, ok: true}, "models"
	f.start()
	f.pass("rev1", result(bundleUnit(t, "a", f.configMap("a1"))))
	cm, err := f.cs.CoreV1().ConfigMaps(f.ns).Get(f.ctx, parentName(f.instance, render.KindBundleUnit, "a"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cm.Labels[LabelShardGroup]; got != "models" {
		t.Errorf("label %s = %q, want models", LabelShardGroup, got)
	}
	rec, err := decodeParent(cm)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Group != "models" || rec.Instance != f.instance {
		t.Errorf("record instance %q, group %q; want %q, models", rec.Instance, rec.Group, f.instance)
	}
}
