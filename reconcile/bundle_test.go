package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/render"
)

// bundleUnit builds a unit from YAML documents, as render does for a bundle.
func bundleUnit(t *testing.T, name string, docs ...string) render.Unit {
	t.Helper()
	u := render.Unit{Name: name, Kind: "bundle", Source: "bundles/" + name}
	for _, d := range docs {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &obj.Object); err != nil {
			t.Fatal(err)
		}
		obj.SetLabels(map[string]string{render.LabelManagedBy: render.ManagedByTether})
		obj.SetAnnotations(map[string]string{render.AnnotationSrc: u.Source})
		u.Objects = append(u.Objects, obj)
	}
	u.Hash = render.ObjectsHash(u.Objects)
	return u
}

// TestCRDAndCustomResourceInOneBundle: the CRD is applied in the first stage and
// waited for, so its custom resource applies in the same pass.
func TestCRDAndCustomResourceInOneBundle(t *testing.T) {
	f := newFixture(t)
	group := strings.ReplaceAll(f.ns, "-", "") + ".example.com"
	crd := fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: datasets.%[1]s}
spec:
  group: %[1]s
  scope: Namespaced
  names: {plural: datasets, singular: dataset, kind: Dataset}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {uri: {type: string}}}
`, group)
	// no namespace: render cannot know Dataset is namespaced; reconcile places it
	cr := fmt.Sprintf(`apiVersion: %s/v1
kind: Dataset
metadata: {name: fraud-2026-11}
spec: {uri: "s3://data/fraud/2026-11"}
`, group)
	// the custom resource comes first in the bundle: staging must reorder it
	unit := bundleUnit(t, "data", cr, crd)
	unit.Namespace = f.ns
	f.pass("rev1", &render.Result{Units: []render.Unit{unit}})
	t.Cleanup(func() {
		_ = dynamic.NewForConfigOrDie(cluster.Shared().Config).Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
			Delete(context.Background(), "datasets."+group, metav1.DeleteOptions{})
	})
	dyn := dynamic.NewForConfigOrDie(cluster.Shared().Config)
	got, err := dyn.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: "datasets"}).Namespace(f.ns).Get(f.ctx, "fraud-2026-11", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("custom resource not applied in the same pass as its CRD: %v", err)
	}
	if uri, _, _ := unstructured.NestedString(got.Object, "spec", "uri"); uri != "s3://data/fraud/2026-11" {
		t.Errorf("spec.uri = %q", uri)
	}
	if n := len(f.eventsOf(EventSyncFailed)); n != 0 {
		t.Errorf("%d SyncFailed events", n)
	}
	// The next revision places the custom resource again: it is recognised as
	// unchanged, neither rewritten nor pruned.
	applies := f.requests("apply")
	f.pass("rev2", &render.Result{Units: []render.Unit{unit}})
	if n := f.requests("apply") - applies; n != 0 {
		t.Errorf("an unchanged revision sent %d applies", n)
	}
	if _, err := dyn.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: "datasets"}).Namespace(f.ns).Get(f.ctx, "fraud-2026-11", metav1.GetOptions{}); err != nil {
		t.Errorf("custom resource gone after an unchanged revision: %v", err)
	}
}

// TestSecretDriftIsMasked: a drifted Secret is reverted and its diff names the
// key but never the value.
func TestSecretDriftIsMasked(t *testing.T) {
	f := newFixture(t)
	secret := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: %s}\nstringData: {token: hunter2-desired}\n", f.ns)
	f.pass("rev1", &render.Result{Units: []render.Unit{bundleUnit(t, "creds", secret)}})
	_, err := f.cs.CoreV1().Secrets(f.ns).Patch(f.ctx, "creds", types.MergePatchType,
		[]byte(`{"stringData":{"token":"hunter2-live"}}`), metav1.PatchOptions{FieldManager: intruder})
	if err != nil {
		t.Fatal(err)
	}
	ev := f.driftEvent(ActionReverted, "Secret/"+f.ns+"/creds", "data.token")
	text := fmt.Sprintf("%+v %+v", ev, *ev.Drift)
	if strings.Contains(text, "hunter2") || strings.Contains(text, "aHVudGVyMi") {
		t.Errorf("secret value leaked into the drift event: %s", text)
	}
	eventually(t, 2*time.Second, "secret reverted", func() bool {
		s, err := f.cs.CoreV1().Secrets(f.ns).Get(f.ctx, "creds", metav1.GetOptions{})
		return err == nil && string(s.Data["token"]) == "hunter2-desired"
	})
}
