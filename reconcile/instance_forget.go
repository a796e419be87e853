package reconcile

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Forget deletes what is left of an instance that is gone for good (a
// torn-down preview environment) once it has no records: its hash key
// Secret. With records left it refuses, since they could not be read
// without the key.
func (inv *Inventory) Forget(ctx context.Context) error {
	cms := inv.applier.clientset.CoreV1().ConfigMaps(inv.namespace)
	list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: LabelInstance + "=" + inv.instance})
	if err != nil {
		return fmt.Errorf("inventory: list ConfigMaps in %s: %w", inv.namespace, err)
	}
	if len(list.Items) > 0 {
		return fmt.Errorf("inventory: instance %s still has %d records", inv.instance, len(list.Items))
	}
	name := hashKeyName(inv.instance)
	err = inv.applier.clientset.CoreV1().Secrets(inv.namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("Secret/%s/%s: delete: %w", inv.namespace, name, err)
	}
	return nil
}
