package reconcile

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-ml/tether/render"
)

// shard is a second daemon of the fixture's deployment: instance
// <fixture's instance>-<name>, in the fixture's group.
func (f *fixture) shard(name string) *fixture {
	g := &fixture{t: f.t, ctx: f.ctx, ns: f.ns, cs: f.cs, src: &fakeSource{}, maxPrune: f.maxPrune,
		instance: f.instance + "-" + name, group: f.instance}
	g.start()
	return g
}

// elsewhere marks models of res as another shard's.
func elsewhere(res *render.Result, models ...string) *render.Result {
	res.Elsewhere = models
	return res
}

// TestShardMoveHandsOver (issue 15): a model moving from the unsharded
// instance to shard b, whichever of the two sees the revision first, keeps
// every object (same UID, never pruned), a past training run the new shard
// does not render included; the objects carry shard b's ApplySet label, the
// record is shard b's and the old one is gone; each /status lists its own
// models; and shard b then prunes them as its own when the model leaves Git.
func TestShardMoveHandsOver(t *testing.T) {
	for _, bFirst := range []bool{false, true} {
		name := "old shard first"
		if bFirst {
			name = "new shard first"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			b := f.shard("b")
			x1, x2, y := trainingSpec("x", "d1", 3), trainingSpec("x", "d2", 3), servingSpec("y", imgA, 1)
			f.pass("rev1", f.models(map[string]string{"x": x1, "y": y}))
			f.pass("rev2", f.models(map[string]string{"x": x2, "y": y}))
			b.pass("rev2", elsewhere(b.models(nil), "x", "y"))
			jobs := f.jobUIDs("x")
			if len(jobs) != 2 {
				t.Fatalf("jobs of x before the move: %v, want two runs", jobs)
			}

			old := func() { f.pass("rev3", elsewhere(f.models(map[string]string{"y": y}), "x")) }
			moved := func() { b.pass("rev3", elsewhere(b.models(map[string]string{"x": x2}), "y")) }
			if bFirst {
				moved()
				old()
			} else {
				old()
				moved()
			}
			if got := f.jobUIDs("x"); !maps.Equal(got, jobs) {
				t.Errorf("jobs of x after the move: %v, want the same objects %v", got, jobs)
			}
			noted := b.notedLabels("x")
			if len(noted) != 2 || noted[trainingJob(t, "x", "d2")] != "" || noted[trainingJob(t, "x", "d1")] != f.loop.applySetID("model", "x") {
				t.Errorf("shard b's record of x notes %v, want both runs, the past one with the old shard's label", noted)
			}
			for _, g := range []*fixture{f, b} {
				if evs := g.eventsOf(EventPruned); len(evs) > 0 {
					t.Errorf("%s pruned %+v during the move", g.instance, evs)
				}
			}
			if _, err := f.getConfigMap(parentName(f.instance, "model", "x")); err == nil {
				t.Error("the old shard's record of x is still there")
			}
			if got, want := [][]string{statusModels(f), statusModels(b)}, [][]string{{"y"}, {"x"}}; !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("/status models of the two shards: %v, want %v", got, want)
			}

			// Back to the unsharded instance: the past run's label is its own again.
			// (Model z keeps shard b from rendering none, which the guard would block.)
			b.pass("rev4", elsewhere(b.models(map[string]string{"z": servingSpec("z", imgB, 1)}), "x", "y"))
			f.pass("rev4", f.models(map[string]string{"x": x2, "y": y}))
			if noted := f.notedLabels("x"); len(noted) != 2 || noted[trainingJob(t, "x", "d1")] != "" {
				t.Errorf("the unsharded instance's record of x notes %v, want both runs its own", noted)
			}
			if got := f.jobUIDs("x"); !maps.Equal(got, jobs) {
				t.Errorf("jobs of x after the move back: %v, want the same objects %v", got, jobs)
			}
			f.pass("rev5", f.models(map[string]string{"y": y}))
			if got := f.jobUIDs("x"); len(got) != 0 {
				t.Errorf("jobs of x after it left Git: %v, want both pruned", got)
			}
		})
	}
}

// jobUIDs lists the Jobs of model (label tether.dev/model) by name.
func (f *fixture) jobUIDs(model string) map[string]types.UID {
	f.t.Helper()
	list, err := f.cs.BatchV1().Jobs(f.ns).List(f.ctx, metav1.ListOptions{LabelSelector: render.LabelModel + "=" + model})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]types.UID{}
	for _, j := range list.Items {
		if j.DeletionTimestamp == nil {
			out[j.Name] = j.UID
		}
	}
	return out
}

func statusModels(f *fixture) []string {
	var out []string
	for _, u := range f.loop.Status().Units {
		out = append(out, u.Name)
	}
	return out
}

// TestUndecidedShardKeepsObjects: a model whose shard the revision cannot
// tell (its model.yaml does not parse) stays with the shard that manages it,
// as after any failed render: invalid in /status, nothing pruned or handed
// over; a shard that does not manage it ignores it.
func TestUndecidedShardKeepsObjects(t *testing.T) {
	f := newFixture(t)
	b := f.shard("b")
	f.pass("rev1", f.models(map[string]string{"x": servingSpec("x", imgA, 1)}))
	uid := f.mustExistDeployment("x")
	f.pass("rev2", &render.Result{Undecided: []string{"x"}})
	b.pass("rev2", &render.Result{Undecided: []string{"x"}})
	if got := f.mustExistDeployment("x"); got != uid {
		t.Errorf("Deployment x replaced (uid %s, want %s)", got, uid)
	}
	if evs := f.eventsOf(EventPruned); len(evs) > 0 {
		t.Errorf("pruned %+v", evs)
	}
	if st := f.loop.Status().Units; len(st) != 1 || st[0].State != HealthInvalid {
		t.Errorf("/status of the managing shard: %+v, want x invalid", st)
	}
	if st := b.loop.Status().Units; len(st) != 0 {
		t.Errorf("/status of the other shard: %+v, want nothing", st)
	}
}

// TestShardTakesOverRecordsFromBeforeShards: a record the unsharded daemon
// wrote before records carried the unit and group labels is found by its
// name when its model moves to a shard; and the unsharded daemon, restarted,
// writes its remaining records again with the labels.
func TestShardTakesOverRecordsFromBeforeShards(t *testing.T) {
	f := newFixture(t)
	specs := map[string]string{"x": servingSpec("x", imgA, 1), "y": servingSpec("y", imgB, 1)}
	f.pass("rev1", f.models(specs))
	for _, unit := range []string{"x", "y"} {
		f.stripShardLabels(parentName(f.instance, "model", unit))
	}
	uid := f.mustExistDeployment("x")
	b := f.shard("b")
	b.pass("rev2", elsewhere(b.models(map[string]string{"x": specs["x"]}), "y"))
	if got := f.mustExistDeployment("x"); got != uid {
		t.Errorf("Deployment x replaced during the move")
	}
	if rec := b.inventoryRecord("model", "x"); len(rec.Objects) != 2 || rec.Objects[0].Adopted || rec.Objects[1].Adopted {
		t.Errorf("shard b's record of x: %+v, want both objects handed over, not adopted", rec.Objects)
	}
	if _, err := f.getConfigMap(parentName(f.instance, "model", "x")); err == nil {
		t.Error("the unlabelled record of x is still there")
	}

	f.start() // restarted: its record of y lacks the labels
	f.pass("rev2", elsewhere(f.models(map[string]string{"y": specs["y"]}), "x"))
	cm := f.mustExist(parentName(f.instance, "model", "y"), "")
	if cm.Labels[LabelUnit] != "y" || cm.Labels[LabelShardGroup] != f.instance {
		t.Errorf("record of y after a restart: labels %v, want %s=y and %s=%s", cm.Labels, LabelUnit, LabelShardGroup, f.instance)
	}
}

// stripShardLabels makes a record look as one written before shards existed.
func (f *fixture) stripShardLabels(name string) {
	f.t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:null,%q:null}}}`, LabelUnit, LabelShardGroup)
	if _, err := f.cs.CoreV1().ConfigMaps(f.ns).Patch(f.ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) mustExistDeployment(name string) types.UID {
	f.t.Helper()
	d, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil || d.DeletionTimestamp != nil {
		f.t.Fatalf("Deployment %s: %v", name, err)
	}
	return d.UID
}

// TestShardTakeOverRetriesAChangedRecord: when the old shard, still at an
// older revision, writes its record after the new shard read it, the new
// shard's delete of that record fails on its resourceVersion; the next pass
// reads it again and takes over what changed, and then deletes it.
func TestShardTakeOverRetriesAChangedRecord(t *testing.T) {
	f := newFixture(t)
	b := f.shard("b")
	f.pass("rev1", f.models(map[string]string{"x": trainingSpec("x", "d1", 3), "y": servingSpec("y", imgA, 1)}))
	b.pass("rev1", elsewhere(b.models(nil), "x", "y"))

	// Shard b runs rev3 (x moved to it) up to the records step...
	b.src.rev = "rev3"
	b.res = elsewhere(b.models(map[string]string{"x": trainingSpec("x", "d2", 3)}), "y")
	p := newPass()
	for _, s := range []step{b.loop.fetch, b.loop.render, b.loop.apply, b.loop.prune, b.loop.saveRecords} {
		if _, err := s(b.ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// ...while the old shard applies rev2, a new training run of x, and saves its record.
	f.pass("rev2", f.models(map[string]string{"x": trainingSpec("x", "d3", 3), "y": servingSpec("y", imgA, 1)}))
	if _, err := b.loop.dropSiblings(b.ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.getConfigMap(parentName(f.instance, "model", "x")); err != nil {
		t.Fatalf("the changed record was deleted: %v", err)
	}
	b.loop.finish(p, nil)
	f.pass("rev3", elsewhere(f.models(map[string]string{"y": servingSpec("y", imgA, 1)}), "x"))
	b.loop.cycle(b.ctx) // the next pass: same revision, retried
	if _, err := f.getConfigMap(parentName(f.instance, "model", "x")); err == nil {
		t.Error("the old shard's record of x is still there after the retry")
	}
	// The run shard b renders carries its label; the two it does not render
	// keep the old shard's, which its record notes.
	oldID := f.loop.applySetID("model", "x")
	noted := b.notedLabels("x")
	if len(noted) != 3 || noted[trainingJob(t, "x", "d2")] != "" || noted[trainingJob(t, "x", "d1")] != oldID || noted[trainingJob(t, "x", "d3")] != oldID {
		t.Errorf("shard b's record of x notes %v, want the three runs, d1 and d3 with the old shard's label", noted)
	}
	b.pass("rev4", elsewhere(b.models(map[string]string{"z": servingSpec("z", imgB, 1)}), "y"))
	if got := f.jobUIDs("x"); len(got) != 0 || len(b.eventsOf(EventPruneSkipped)) > 0 {
		t.Errorf("after x left Git: jobs %v, skipped %+v; want shard b to prune all three runs", got, b.eventsOf(EventPruneSkipped))
	}
}

// trainingJob is the name of the Job of trainingSpec(model, dataset, ...).
func trainingJob(t *testing.T, model, dataset string) string {
	t.Helper()
	res := (&fixture{t: t}).models(map[string]string{model: trainingSpec(model, dataset, 3)})
	return res.Units[0].Objects[0].GetName()
}

// notedLabels checks that every object of model's record carries the ApplySet
// label the record notes for it (its unit's, or another shard's), and returns
// the noted labels by name ("" for the unit's own).
func (f *fixture) notedLabels(model string) map[string]string {
	f.t.Helper()
	noted := map[string]string{}
	for _, o := range f.inventoryRecord("model", model).Objects {
		obj, err := f.loop.cfg.Applier.Get(f.ctx, schema.GroupVersionKind{Group: o.Group, Version: o.Version, Kind: o.Kind}, o.key())
		if err != nil {
			f.t.Fatal(err)
		}
		want := o.PartOf
		if want == "" {
			want = f.loop.applySetID("model", model)
		}
		if got := obj.GetLabels()[LabelApplySetPartOf]; got != want {
			f.t.Errorf("%s carries part-of %q, its record notes %q", o.key(), got, want)
		}
		noted[o.Name] = o.PartOf
	}
	return noted
}

func TestNotedLabel(t *testing.T) {
	tests := []struct {
		name, noted, want string
	}{
		{"the record's own label", "", "theirs"},
		{"a label the record noted", "third", "third"},
		{"noted, and this unit's own: back home", "own", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notedLabel(memberRecord{PartOf: tt.noted}, "theirs", "own"); got != tt.want {
				t.Errorf("notedLabel = %q, want %q", got, tt.want)
			}
		})
	}
}
