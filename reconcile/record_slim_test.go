package reconcile

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

func TestSlimRecord(t *testing.T) {
	full := record{Instance: "models-1", Group: "models", Unit: "fraud", Kind: "model", Revision: "abc", Hash: "h",
		Objects: []memberRecord{{Version: "v1", Kind: "Service", Namespace: "ml", Name: "fraud", Hash: "x", Revision: "abc"}}}
	data, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	name := parentName(full.Instance, full.Kind, full.Unit)
	meta := metav1.ObjectMeta{Name: name, Namespace: "ml", UID: "uid-1", ResourceVersion: "7",
		Labels:        map[string]string{LabelApplySetID: applySetID(name, "ml"), LabelInstance: full.Instance},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "tether"}}}
	tests := []struct {
		name     string
		in       any
		wantData bool // the slim record decodes
	}{
		{"a record", &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{inventoryDataKey: string(data)}}, true},
		{"not a record", &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{inventoryDataKey: "{"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := slimRecord(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			cm := out.(*corev1.ConfigMap)
			wantMeta := metav1.ObjectMeta{Name: meta.Name, Namespace: meta.Namespace, UID: meta.UID, ResourceVersion: meta.ResourceVersion, Labels: meta.Labels}
			if diff := cmp.Diff(wantMeta, cm.ObjectMeta); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			rec, err := decodeParent(cm)
			if !tt.wantData {
				if cm.Data != nil {
					t.Errorf("data kept: %v", cm.Data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := record{Instance: full.Instance, Group: full.Group, Unit: full.Unit, Kind: full.Kind}
			if diff := cmp.Diff(want, *rec, cmp.AllowUnexported(record{})); diff != "" {
				t.Errorf("decoded slim record (-want +got):\n%s", diff)
			}
		})
	}
	tomb := cache.DeletedFinalStateUnknown{Key: "ml/x"}
	if out, _ := slimRecord(tomb); out != tomb {
		t.Errorf("a tombstone changed: %v", out)
	}
}
