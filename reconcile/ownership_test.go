package reconcile

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestForgedRecordsAreNotActedOn (issue 11): a copy of a real record renamed
// to another unit, and a record crafted to look right but listing an object
// tether never labelled, must not get anything deleted.
func TestForgedRecordsAreNotActedOn(t *testing.T) {
	f := newFixture(t)
	for _, victim := range []string{"victim-copied", "victim-crafted"} {
		if _, err := f.cs.CoreV1().ConfigMaps(f.ns).Create(f.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: victim}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	f.pass("rev1", result(bundleUnit(t, "a", f.configMap("a1"))))
	real, err := f.getConfigMap(parentName(f.instance, "bundle", "a"))
	if err != nil {
		t.Fatal(err)
	}
	copied := strings.Replace(real.Data[inventoryDataKey], `"name":"a1"`, `"name":"victim-copied"`, 1)
	f.forgeRecord(parentName(f.instance, "bundle", "ghost"), real.Labels, copied)

	crafted := parentName(f.instance, "bundle", "crafted")
	rec := record{Instance: f.instance, Unit: "crafted", Kind: "bundle", Objects: []memberRecord{{Version: "v1", Kind: "ConfigMap", Namespace: f.ns, Name: "victim-crafted", Fields: json.RawMessage(`{"f:data":{}}`)}}}
	f.forgeRecord(crafted, map[string]string{LabelInventory: "bundle", LabelInstance: f.instance, LabelApplySetID: applySetID(crafted, f.ns)}, toJSON(t, rec))

	f.start() // a restarted daemon reads the forged records
	f.pass("rev2", result(bundleUnit(t, "a", f.configMap("a1"))))
	f.mustExist("victim-copied", "")
	f.mustExist("victim-crafted", "")
	f.mustExist("a1", "")
	st := f.loop.Status()
	if len(st.InvalidRecords) != 1 || !strings.Contains(st.InvalidRecords[0], "renamed or copied") {
		t.Errorf("/status invalidRecords = %q, want the renamed copy", st.InvalidRecords)
	}
	if evs := f.eventsOf(EventPruneSkipped); len(evs) != 1 || evs[0].Objects[0].Name != "victim-crafted" {
		t.Errorf("PruneSkipped events = %+v, want one for victim-crafted", evs)
	}
}

// TestTwoInstancesShareANamespace (issue 11): two daemons for two
// repositories with the same default namespace leave each other's models
// alone, and each reports the other's records as foreign.
func TestTwoInstancesShareANamespace(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", result(bundleUnit(t, "team-a", f.configMap("a1"))))
	g := f.peer("other-team")
	g.pass("other1", result(bundleUnit(t, "team-b", f.configMap("b1"))))
	f.pass("rev2", result(bundleUnit(t, "team-a", f.configMap("a1"))))
	g.pass("other2", result(bundleUnit(t, "team-b", f.configMap("b1"))))
	f.mustExist("a1", "")
	f.mustExist("b1", "")
	if n := len(f.eventsOf(EventPruned)) + len(g.eventsOf(EventPruned)); n != 0 {
		t.Errorf("%d Pruned events between two instances", n)
	}
	if foreign := g.loop.Status().ForeignRecords; !slices.Contains(foreign, parentName("test", "bundle", "team-a")) {
		t.Errorf("the second instance's foreign records = %q, want the first's", foreign)
	}
}

// TestUndecodableRecordIsSkipped (issue 11): one record that cannot be
// decoded no longer keeps the daemon from becoming ready.
func TestUndecodableRecordIsSkipped(t *testing.T) {
	f := newFixture(t)
	f.forgeRecord(parentName(f.instance, "model", "broken"), map[string]string{LabelInventory: "model", LabelInstance: f.instance}, "{not json")
	f.start()
	if err := f.loop.Ready(); err != nil {
		t.Errorf("not ready with one undecodable record: %v", err)
	}
	if st := f.loop.Status(); len(st.InvalidRecords) != 1 {
		t.Errorf("/status invalidRecords = %q, want the broken record", st.InvalidRecords)
	}
	f.pass("rev1", result(bundleUnit(t, "a", f.configMap("a1"))))
	f.mustExist("a1", "")
}

// TestObjectsMoveBetweenUnits (issue 11): renaming a bundle, or moving a
// fixed-name object from one model to another, hands the objects over: the
// same objects (same UID), now labelled for and recorded by the new unit.
func TestObjectsMoveBetweenUnits(t *testing.T) {
	f := newFixture(t)
	ns := "moved-" + f.ns
	nsDoc := "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n"
	t.Cleanup(func() { _ = f.cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	f.pass("rev1", result(bundleUnit(t, "base", nsDoc, f.configMap("shared")), modelUnit(t, "a", f.configMap("fixed")), modelUnit(t, "b", f.configMap("b1"))))
	nsUID := f.getNamespaceUID(ns)
	sharedUID, fixedUID := f.mustExist("shared", "").UID, f.mustExist("fixed", "").UID

	f.pass("rev2", result(bundleUnit(t, "platform", nsDoc, f.configMap("shared")), modelUnit(t, "a"), modelUnit(t, "b", f.configMap("b1"), f.configMap("fixed"))))
	if got := f.getNamespaceUID(ns); got != nsUID {
		t.Fatalf("namespace %s deleted or recreated", ns)
	}
	for _, tt := range []struct {
		name string
		uid  types.UID
		want string
	}{{"shared", sharedUID, f.loop.applySetID("bundle", "platform")}, {"fixed", fixedUID, f.loop.applySetID("model", "b")}} {
		name, want := tt.name, tt.want
		cm := f.mustExist(name, tt.uid)
		if cm.Labels[LabelApplySetPartOf] != want {
			t.Errorf("%s part-of = %q, want the new unit's %q", name, cm.Labels[LabelApplySetPartOf], want)
		}
	}
	f.mustBeGone(parentName(f.instance, "bundle", "base"))
	if n := len(f.eventsOf(EventPruned)); n != 0 {
		t.Errorf("%d Pruned events for objects that only moved", n)
	}
	rec := f.inventoryRecord("model", "b")
	if len(rec.Objects) != 2 {
		t.Errorf("record of b lists %d objects, want b1 and fixed", len(rec.Objects))
	}
}

func (f *fixture) getNamespaceUID(name string) string {
	f.t.Helper()
	ns, err := f.cs.CoreV1().Namespaces().Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	if ns.DeletionTimestamp != nil {
		f.t.Fatalf("namespace %s is being deleted", name)
	}
	return string(ns.UID)
}

func (f *fixture) inventoryRecord(kind, unit string) *record {
	f.t.Helper()
	cm, err := f.getConfigMap(parentName(f.instance, kind, unit))
	if err != nil {
		f.t.Fatal(err)
	}
	rec, err := decodeParent(cm)
	if err != nil {
		f.t.Fatal(err)
	}
	return rec
}

// TestAdoptedObjectsAreNeverPruned (issue 11): an object that existed before
// tether first applied it is managed, but when it leaves Git tether lets it
// go instead of deleting it; one tether created is deleted.
func TestAdoptedObjectsAreNeverPruned(t *testing.T) {
	f := newFixture(t)
	if _, err := f.cs.CoreV1().ConfigMaps(f.ns).Create(f.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "preexisting"}}, metav1.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
		t.Fatal(err)
	}
	f.pass("rev1", result(bundleUnit(t, "a", f.configMap("preexisting"), f.configMap("created"))))
	adopted := map[string]bool{}
	for _, o := range f.inventoryRecord("bundle", "a").Objects {
		adopted[o.Name] = o.Adopted
	}
	if !adopted["preexisting"] || adopted["created"] {
		t.Fatalf("adopted = %v, want only preexisting", adopted)
	}
	f.pass("rev2", result(bundleUnit(t, "a")))
	f.mustExist("preexisting", "")
	f.mustBeGone("created")
	if evs := f.eventsOf(EventPruneSkipped); len(evs) != 1 || evs[0].Objects[0].Name != "preexisting" {
		t.Errorf("PruneSkipped events = %+v, want one for preexisting", evs)
	}
}
