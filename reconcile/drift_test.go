package reconcile

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

const (
	tetherFields = `{"f:metadata":{"f:labels":{"f:team":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"serve\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`
	noReplicas   = `{"f:metadata":{"f:labels":{"f:team":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"serve\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`
	noImage      = `{"f:metadata":{"f:labels":{"f:team":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"serve\"}":{".":{},"f:name":{}}}}}}}`
	noLabel      = `{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"serve\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`
)

func deploymentObj(replicas int64, image string, labels map[string]any, managed []metav1.ManagedFieldsEntry) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "fraud", "namespace": "ml", "labels": labels},
		"spec": map[string]any{
			"replicas": replicas,
			"template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "serve", "image": image},
			}}},
		},
	}}
	u.SetManagedFields(managed)
	return u
}

func entry(manager string, op metav1.ManagedFieldsOperationType, fields string, at time.Time) metav1.ManagedFieldsEntry {
	t := metav1.NewTime(at)
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Time: &t, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
}

func mustSet(t *testing.T, fields string) *fieldpath.Set {
	t.Helper()
	s := &fieldpath.Set{}
	if err := s.FromJSON(bytes.NewReader([]byte(fields))); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDetectDrift(t *testing.T) {
	applied := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	changed := applied.Add(time.Minute)
	team := map[string]any{"team": "risk"}
	desired := deploymentObj(2, "img:v1", team, nil)
	tests := []struct {
		name string
		live *unstructured.Unstructured
		want *Drift
	}{
		{
			name: "nothing changed",
			live: deploymentObj(2, "img:v1", team, []metav1.ManagedFieldsEntry{entry("tether", metav1.ManagedFieldsOperationApply, tetherFields, applied)}),
		},
		{
			name: "another controller wrote fields tether does not set",
			live: deploymentObj(2, "img:v1", map[string]any{"team": "risk", "extra": "x"}, []metav1.ManagedFieldsEntry{
				entry("tether", metav1.ManagedFieldsOperationApply, tetherFields, applied),
				entry("other", metav1.ManagedFieldsOperationUpdate, `{"f:metadata":{"f:labels":{"f:extra":{}}}}`, changed),
			}),
		},
		{
			name: "replicas scaled by kubectl",
			live: deploymentObj(5, "img:v1", team, []metav1.ManagedFieldsEntry{
				entry("tether", metav1.ManagedFieldsOperationApply, noReplicas, applied),
				entry("kubectl-scale", metav1.ManagedFieldsOperationUpdate, `{"f:spec":{"f:replicas":{}}}`, changed),
			}),
			want: &Drift{Manager: "kubectl-scale", Time: changed, Changes: []FieldChange{{Path: "spec.replicas", Desired: int64(2), Live: int64(5)}}},
		},
		{
			name: "image edited",
			live: deploymentObj(2, "img:evil", team, []metav1.ManagedFieldsEntry{
				entry("tether", metav1.ManagedFieldsOperationApply, noImage, applied),
				entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, `{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"serve\"}":{"f:image":{}}}}}}}`, changed),
			}),
			want: &Drift{Manager: "kubectl-edit", Time: changed, Changes: []FieldChange{{Path: `spec.template.spec.containers[name="serve"].image`, Desired: "img:v1", Live: "img:evil"}}},
		},
		{
			name: "label removed",
			live: deploymentObj(2, "img:v1", map[string]any{}, []metav1.ManagedFieldsEntry{
				entry("tether", metav1.ManagedFieldsOperationApply, noLabel, applied),
				entry("kubectl-label", metav1.ManagedFieldsOperationUpdate, `{"f:metadata":{"f:labels":{}}}`, changed),
			}),
			want: &Drift{Manager: "kubectl-label", Time: changed, Changes: []FieldChange{{Path: "metadata.labels.team", Desired: "risk", Removed: true}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DetectDrift(desired, mustSet(t, tetherFields), tt.live)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil {
				tt.want.Object = KeyOf(desired)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("drift (-want +got):\n%s", diff)
			}
		})
	}
}
