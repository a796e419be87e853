package reconcile

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// slimRecord is the transform of the record watch's cache: it keeps of each
// record what recordDeleted reads (name, namespace, UID, labels and the
// record's instance, group, unit and kind), not the member list and
// managedFields. With 10,000 models the cached records were 60 MiB of a
// 236 MiB heap (issue 15, docs/BENCHMARKS.md). A ConfigMap that is no valid
// record keeps its metadata only: recordDeleted ignores it either way.
func slimRecord(obj any) (any, error) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return obj, nil // a tombstone
	}
	slim := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: cm.Name, Namespace: cm.Namespace, UID: cm.UID, ResourceVersion: cm.ResourceVersion, Labels: cm.Labels,
	}}
	rec, err := decodeParent(cm)
	if err != nil {
		return slim, nil
	}
	data, err := json.Marshal(record{Instance: rec.Instance, Group: rec.Group, Unit: rec.Unit, Kind: rec.Kind})
	if err != nil {
		return nil, err
	}
	slim.Data = map[string]string{inventoryDataKey: string(data)}
	return slim, nil
}
