package reconcile

import (
	"reflect"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestReadAPI: Records lists what a pass recorded; an object stamped as the
// daemon stamps it dry-run applies to exactly the live object; a changed one
// comes back changed while the live object stays as it was; the API server's
// refusal of an immutable change comes back as its Invalid error.
func TestReadAPI(t *testing.T) {
	f := newFixture(t)
	res := f.models(map[string]string{"m": servingSpec("m", "registry.example.com/m:v1", 1)})
	var dep *unstructured.Unstructured
	for _, o := range res.Units[0].Objects {
		if o.GetKind() == "Deployment" {
			dep = o.DeepCopy()
		}
	}
	f.pass("rev1", res)
	inv, applier := f.loop.cfg.Inventory, f.loop.cfg.Applier

	recs, err := inv.Records(f.ctx)
	if err != nil || len(recs) != 1 || recs[0].Unit != "m" || recs[0].Revision != "rev1" || len(recs[0].Members) != 2 {
		t.Fatalf("Records = %+v, %v; want unit m at rev1 with 2 members", recs, err)
	}
	for _, m := range recs[0].Members {
		if m.Revision != "rev1" || len(m.Fields) == 0 || m.GVK().Version != "v1" {
			t.Errorf("member %+v: want revision, fields and version recorded", m)
		}
	}
	key := KeyOf(dep)
	live, err := applier.Get(f.ctx, dep.GroupVersionKind(), key)
	if err != nil {
		t.Fatal(err)
	}

	same, err := Stamp(dep, "rev1", inv.PartOf("model", "m"))
	if err != nil {
		t.Fatal(err)
	}
	merged, err := applier.DryRunApply(f.ctx, same)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range [][]string{{"spec"}, {"metadata", "labels"}, {"metadata", "annotations"}, {"metadata", "generation"}} {
		want, _, _ := unstructured.NestedFieldNoCopy(live.Object, field...)
		got, _, _ := unstructured.NestedFieldNoCopy(merged.Object, field...)
		if !reflect.DeepEqual(want, got) {
			t.Errorf("dry-run of the applied content changes %v: %v → %v", field, want, got)
		}
	}

	scaled := same.DeepCopy()
	_ = unstructured.SetNestedField(scaled.Object, int64(3), "spec", "replicas")
	merged, err = applier.DryRunApply(f.ctx, scaled)
	if n, _, _ := unstructured.NestedInt64(merged.Object, "spec", "replicas"); err != nil || n != 3 {
		t.Errorf("dry-run of 3 replicas: %v, replicas %d", err, n)
	}
	// The deployment controller keeps writing status, so the resourceVersion
	// may move; a write of the spec would move the generation.
	after, err := f.cs.AppsV1().Deployments(f.ns).Get(f.ctx, "m", metav1.GetOptions{})
	if err != nil || after.Generation != live.GetGeneration() || *after.Spec.Replicas != 1 {
		t.Errorf("after the dry-runs: %v, generation %d (was %d), replicas %d; want nothing written", err, after.Generation, live.GetGeneration(), *after.Spec.Replicas)
	}

	reselected := same.DeepCopy()
	_ = unstructured.SetNestedStringMap(reselected.Object, map[string]string{"app": "other"}, "spec", "selector", "matchLabels")
	_ = unstructured.SetNestedStringMap(reselected.Object, map[string]string{"app": "other"}, "spec", "template", "metadata", "labels")
	if _, err := applier.DryRunApply(f.ctx, reselected); !apierrors.IsInvalid(err) {
		t.Errorf("dry-run of a new selector: err = %v, want the API server's Invalid (field is immutable)", err)
	}
	if _, err := applier.Get(f.ctx, dep.GroupVersionKind(), Key{Group: "apps", Kind: "Deployment", Namespace: f.ns, Name: "nope"}); !apierrors.IsNotFound(err) {
		t.Errorf("Get of a missing object: err = %v, want NotFound", err)
	}
	if got := ApplyStage("Namespace"); got != stageFoundation || ApplyStage("Deployment") != stageRest {
		t.Errorf("ApplyStage: Namespace %d, Deployment %d", got, ApplyStage("Deployment"))
	}
	if ok, err := applier.Namespaced(dep.GroupVersionKind()); !ok || err != nil {
		t.Errorf("Namespaced(Deployment) = %v, %v", ok, err)
	}
}
