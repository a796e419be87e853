package reconcile

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Record labels by which the shards of one deployment find each other's
// records (issue 15).
const (
	LabelUnit       = "tether.dev/unit"        // the unit a record is of
	LabelShardGroup = "tether.dev/shard-group" // the instance of the deployment's unsharded daemon
)

// InGroup makes inv's records part of group: the instance of the unsharded
// daemon of the deployment this instance is a shard of. The records of the
// group's other instances are the only records of another instance tether
// ever acts on: when a model moves to this shard, this instance takes its
// record over and deletes it.
func (inv *Inventory) InGroup(group string) *Inventory {
	inv.group = group
	return inv
}

func (inv *Inventory) groupName() string {
	if inv.group == "" {
		return inv.instance
	}
	return inv.group
}

// sibling reports whether cm is a record of another instance of inv's group.
// A record without the group label is one when its instance is the group's
// own: the unsharded daemon wrote it before it knew of shards.
func (inv *Inventory) sibling(cm *corev1.ConfigMap) bool {
	instance := cm.Labels[LabelInstance]
	if instance == "" || instance == inv.instance {
		return false
	}
	if g := cm.Labels[LabelShardGroup]; g != "" {
		return g == inv.groupName()
	}
	return instance == inv.groupName()
}

// shardRecords is what Load learnt about the group's records.
type shardRecords struct {
	Siblings   map[string]bool // units another instance of the group has a record of
	Unlabelled []string        // units of this instance whose record lacks the unit or group label
}

func (inv *Inventory) noteSibling(cm *corev1.ConfigMap, out *shardRecords) {
	if !inv.sibling(cm) {
		return
	}
	unit := cm.Labels[LabelUnit]
	if unit == "" {
		rec, err := decodeParent(cm)
		if err != nil {
			return
		}
		unit = rec.Unit
	}
	if out.Siblings == nil {
		out.Siblings = map[string]bool{}
	}
	out.Siblings[unit] = true
}

func (inv *Inventory) noteUnlabelled(cm *corev1.ConfigMap, rec *record, out *shardRecords) {
	if cm.Labels[LabelShardGroup] != inv.groupName() || cm.Labels[LabelUnit] != rec.Unit {
		out.Unlabelled = append(out.Unlabelled, rec.Unit)
	}
}

// siblingRecord is a record of another instance of the group, as read.
type siblingRecord struct {
	rec             *record
	name            string // the ConfigMap
	partOf          string // the applyset id its members carry
	uid             types.UID
	resourceVersion string
}

// siblingRecords reads the records the group's other instances keep of unit:
// found by label, and, for a record written before the labels existed, by
// the name the group's unsharded daemon gives it. Records that cannot be
// decoded are left alone.
func (inv *Inventory) siblingRecords(ctx context.Context, kind, unit string) ([]siblingRecord, error) {
	cms := inv.applier.clientset.CoreV1().ConfigMaps(inv.namespace)
	sel := labels.Set{LabelInventory: kind, LabelUnit: unit}.String()
	list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("inventory: list records of %s %s: %w", kind, unit, err)
	}
	items := list.Items
	if len(items) == 0 && inv.groupName() != inv.instance {
		legacy, err := cms.Get(ctx, parentName(inv.groupName(), kind, unit), metav1.GetOptions{})
		switch {
		case err == nil:
			items = append(items, *legacy)
		case !isNotFound(err):
			return nil, fmt.Errorf("inventory: read record of %s %s: %w", kind, unit, err)
		}
	}
	var out []siblingRecord
	for i := range items {
		cm := &items[i]
		if !inv.sibling(cm) {
			continue
		}
		rec, err := decodeParent(cm)
		if err != nil || rec.Unit != unit || rec.Kind != kind || rec.Instance != cm.Labels[LabelInstance] {
			continue
		}
		out = append(out, siblingRecord{rec: rec, name: cm.Name, partOf: cm.Labels[LabelApplySetID], uid: cm.UID, resourceVersion: cm.ResourceVersion})
	}
	return out, nil
}

// dropSibling deletes a record this instance took over, unless it changed
// since it was read (its instance still writes it): then the delete fails
// with a conflict and the record stays.
func (inv *Inventory) dropSibling(ctx context.Context, s siblingRecord) error {
	err := inv.applier.clientset.CoreV1().ConfigMaps(inv.namespace).Delete(ctx, s.name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &s.uid, ResourceVersion: &s.resourceVersion},
	})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("ConfigMap/%s/%s: delete: %w", inv.namespace, s.name, err)
	}
	return nil
}
