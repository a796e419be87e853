package reconcile

import (
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/render"
)

const (
	imgA = "registry.example.com/a@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	imgB = "registry.example.com/b@sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
)

func TestColdApplyWritesOneRequestPerObjectAndAnInventory(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1), "b": servingSpec("b", imgB, 2)}))

	for _, name := range []string{"a", "b"} {
		dep, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		parent := parentName(f.instance, "model", name)
		id := applySetID(parent, f.ns)
		if dep.Labels[LabelApplySetPartOf] != id {
			t.Errorf("deployment %s part-of = %q, want %q", name, dep.Labels[LabelApplySetPartOf], id)
		}
		cm, err := f.cs.CoreV1().ConfigMaps(f.ns).Get(f.ctx, parent, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("inventory parent: %v", err)
		}
		if cm.Labels[LabelApplySetID] != id || cm.Annotations[AnnotationGroupKinds] != "Deployment.apps,Service" {
			t.Errorf("parent labels %v annotations %v", cm.Labels, cm.Annotations)
		}
		rec, err := decodeParent(cm)
		if err != nil || rec.Revision != "rev1" || len(rec.Objects) != 2 {
			t.Errorf("record %+v (%v), want revision rev1 and 2 objects", rec, err)
		}
	}
	if evs := f.eventsOf(EventApplied); len(evs) != 2 || evs[0].Count != 2 || evs[1].Count != 2 {
		t.Errorf("Applied events = %+v, want one per model with Count 2", evs)
	}
	// 4 objects + 2 inventory records, each one server-side apply; nothing else writes.
	if got := f.requests("apply"); got != 6 {
		t.Errorf("apply requests = %d, want 6 (one per object and one per inventory record)", got)
	}
	for _, verb := range []string{"get", "dryrun", "patch", "put", "post"} {
		if n := f.requests(verb); n != 0 {
			t.Errorf("%d %s requests on a cold apply, want 0", n, verb)
		}
	}
}

func TestOnlyChangedObjectsAreWritten(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1), "b": servingSpec("b", imgB, 1)}))
	before := f.resourceVersions("a", "b")
	applies := f.requests("apply")

	f.pass("rev2", f.models(map[string]string{"a": servingSpec("a", imgA, 3), "b": servingSpec("b", imgB, 1)}))
	after := f.resourceVersions("a", "b")
	if after["b"] != before["b"] {
		t.Errorf("unchanged model b was rewritten: resourceVersion %s -> %s", before["b"], after["b"])
	}
	if after["a"] == before["a"] {
		t.Error("changed model a was not re-applied")
	}
	// the Deployment of a and its record; a's Service is unchanged.
	if got := f.requests("apply") - applies; got != 2 {
		t.Errorf("apply requests for one changed field = %d, want 2", got)
	}
	svc, _ := f.cs.CoreV1().Services(f.ns).Get(f.ctx, "a", metav1.GetOptions{})
	if svc.Annotations[render.AnnotationRev] != "rev1" {
		t.Errorf("unchanged Service revision = %q, want rev1", svc.Annotations[render.AnnotationRev])
	}

	applies = f.requests("apply")
	f.pass("rev3", f.models(map[string]string{"a": servingSpec("a", imgA, 3), "b": servingSpec("b", imgB, 1)}))
	if got := f.requests("apply") - applies; got != 0 {
		t.Errorf("an unrelated commit wrote %d objects, want 0", got)
	}
}

// resourceVersions identifies what tether last wrote to each Deployment: its
// generation and tether's managedFields timestamp (status writes by controllers
// change neither).
func (f *fixture) resourceVersions(names ...string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		dep, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, n, metav1.GetOptions{})
		if err != nil {
			f.t.Fatal(err)
		}
		out[n] = fmt.Sprintf("generation %d revision %s", dep.Generation, dep.Annotations[render.AnnotationRev])
	}
	return out
}

func TestRemovedModelIsPrunedWithItsInventory(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1), "b": servingSpec("b", imgB, 1), "c": servingSpec("c", imgB, 1)}))
	stranger := f.strangerDeployment("a-lookalike")

	f.pass("rev2", f.models(map[string]string{"a": servingSpec("a", imgA, 1), "c": servingSpec("c", imgB, 1)}))
	if _, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "b", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("deployment b still exists after its model was removed (err %v)", err)
	}
	if _, err := f.cs.CoreV1().Services(f.ns).Get(f.ctx, "b", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("service b still exists (err %v)", err)
	}
	if _, err := f.cs.CoreV1().ConfigMaps(f.ns).Get(f.ctx, parentName(f.instance, "model", "b"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("inventory of b still exists (err %v)", err)
	}
	if _, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, stranger, metav1.GetOptions{}); err != nil {
		t.Errorf("an object tether never applied was deleted: %v", err)
	}
	if len(f.eventsOf(EventPruned)) != 1 {
		t.Errorf("Pruned events = %d, want 1", len(f.eventsOf(EventPruned)))
	}
}

func TestFailedRenderPrunesNothing(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1), "b": servingSpec("b", imgB, 1)}))
	f.pass("rev2", f.models(map[string]string{"a": servingSpec("a", imgA, 1), "b": "kind: Model\nspec: {image: [broken]}\n"}))
	if _, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "b", metav1.GetOptions{}); err != nil {
		t.Errorf("the objects of an invalid model were touched: %v", err)
	}
	if len(f.eventsOf(EventModelInvalid)) != 1 {
		t.Errorf("ModelInvalid events = %d, want 1", len(f.eventsOf(EventModelInvalid)))
	}
	if got := f.loop.Status().Units[1]; got.Name != "b" || got.State != HealthInvalid {
		t.Errorf("status of b = %+v, want Invalid", got)
	}
}

func TestEmptyRepositoryIsAMassPrune(t *testing.T) {
	f := newFixture(t)
	f.pass("rev1", f.models(map[string]string{"a": servingSpec("a", imgA, 1)}))
	f.pass("rev2", f.models(map[string]string{}))
	if _, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "a", metav1.GetOptions{}); err != nil {
		t.Errorf("emptying the repository deleted objects: %v", err)
	}
	if evs := f.eventsOf(EventPruneBlocked); len(evs) != 1 || evs[0].Count != 2 {
		t.Fatalf("PruneBlocked events = %+v, want one for 2 deletions", evs)
	}
	res := f.models(map[string]string{})
	res.Settings.AllowMassPrune = true
	f.pass("rev3", res)
	if _, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("allowMassPrune did not let the deletion through (err %v)", err)
	}
}

func TestMaxPruneGuard(t *testing.T) {
	specs := map[string]string{}
	for _, n := range []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"} {
		specs[n] = servingSpec(n, imgA, 1)
	}
	f := newFixture(t)
	f.pass("rev1", f.models(specs))
	// removing 6 of 8 models deletes 12 of 16 objects: over 50% and over 10.
	f.pass("rev2", f.models(map[string]string{"m1": specs["m1"], "m2": specs["m2"]}))
	if n := len(f.eventsOf(EventPruneBlocked)); n != 1 {
		t.Fatalf("PruneBlocked events = %d, want 1", n)
	}
	if _, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "m8", metav1.GetOptions{}); err != nil {
		t.Errorf("blocked prune deleted m8: %v", err)
	}
	f.maxPrune = PruneLimit{Count: 12, IsCount: true}
	f.start()
	f.pass("rev2", f.models(map[string]string{"m1": specs["m1"], "m2": specs["m2"]}))
	if _, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "m8", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("--max-prune 12 did not let 12 deletions through (err %v)", err)
	}
}

func TestTrainingRunsAreKeptUpToKeepRuns(t *testing.T) {
	f := newFixture(t)
	var names []string
	for i, ds := range []string{"s3://d/1", "s3://d/2", "s3://d/3", "s3://d/4"} {
		res := f.models(map[string]string{"t": trainingSpec("t", ds, 2)})
		f.pass("rev"+ds, res)
		job := res.Units[0].Objects[0].GetName()
		names = append(names, job)
		f.completeJob(job)
		_ = i
		time.Sleep(1100 * time.Millisecond) // creationTimestamp has second resolution
	}
	f.pass("rev-final", f.models(map[string]string{"t": trainingSpec("t", "s3://d/4", 2)}))
	jobs, err := f.cs.BatchV1().Jobs(f.ns).List(f.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, j := range jobs.Items {
		if j.DeletionTimestamp == nil {
			got[j.Name] = true
		}
	}
	want := map[string]bool{names[2]: true, names[3]: true}
	if len(got) != 2 || !got[names[2]] || !got[names[3]] {
		t.Errorf("jobs kept = %v, want the two newest %v", got, want)
	}
}

// completeJob waits until kwok has finished the Job's pod and the job controller
// marked it Complete.
func (f *fixture) completeJob(name string) {
	f.t.Helper()
	eventually(f.t, 60*time.Second, "job "+name+" complete", func() bool {
		j, err := f.cs.BatchV1().Jobs(f.ns).Get(f.ctx, name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range j.Status.Conditions {
			if c.Type == "Complete" && c.Status == "True" {
				return true
			}
		}
		return false
	})
	eventually(f.t, 5*time.Second, "watch cache sees job "+name+" complete", func() bool {
		live, ok := f.loop.watcher.live(Key{Group: "batch", Kind: "Job", Namespace: f.ns, Name: name})
		return ok && live.finished
	})
}

func TestRestartContinuesWithoutRewriting(t *testing.T) {
	f := newFixture(t)
	specs := map[string]string{"a": servingSpec("a", imgA, 1), "b": servingSpec("b", imgB, 1)}
	f.pass("rev1", f.models(specs))

	f.stop()        // the daemon goes down...
	f.scale("a", 7) // ...someone drifts an object meanwhile...
	f.start()       // ...and a new daemon reads the inventory and sees the same revision
	f.pass("rev1", f.models(specs))
	if n := f.requests("apply"); n > 1 {
		t.Errorf("restarted daemon wrote %d objects, want only the drifted one", n)
	}
	eventually(t, 3*time.Second, "replicas reverted after restart", func() bool {
		dep, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "a", metav1.GetOptions{})
		return err == nil && *dep.Spec.Replicas == 1
	})
	// The event follows the write the check above can already see.
	f.driftEvent(ActionReverted, "Deployment/"+f.ns+"/a", "spec.replicas")
	if evs := f.drifts(ActionReverted); len(evs) != 1 || evs[0].Drift.Manager != intruder {
		t.Errorf("drift made while down: events %+v, want one revert of the intruder's change", evs)
	}
}
