package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// ApplySet (KEP-3659) labels and annotations. Each unit has a parent ConfigMap
// carrying the applyset id; every member is labelled part-of that id.
const (
	LabelApplySetID        = "applyset.kubernetes.io/id"
	LabelApplySetPartOf    = "applyset.kubernetes.io/part-of"
	AnnotationTooling      = "applyset.kubernetes.io/tooling"
	AnnotationGroupKinds   = "applyset.kubernetes.io/contains-group-kinds"
	AnnotationNamespaces   = "applyset.kubernetes.io/additional-namespaces"
	LabelInventory         = "tether.dev/inventory"
	LabelInstance          = "tether.dev/instance"
	inventoryDataKey       = "inventory.json"
	inventoryTooling       = "tether/v1"
	inventoryNamePrefix    = "tether-"
	parentKindForApplySets = "ConfigMap"
)

// record is what the parent ConfigMap stores about one unit: enough for a
// restarted daemon to skip unchanged content and to detect drift that happened
// while it was down.
type record struct {
	version  string         // the parent's resourceVersion when it was read or written
	uid      types.UID      // the parent's UID
	Instance string         `json:"instance"`
	Group    string         `json:"group,omitempty"` // the deployment's shards share it (inventory_shard.go)
	Unit     string         `json:"unit"`
	Kind     string         `json:"kind"` // model or bundle
	Revision string         `json:"revision"`
	Hash     string         `json:"hash"`
	Objects  []memberRecord `json:"objects"`
	Lineage  *Lineage       `json:"lineage,omitempty"` // lineage.go
}

// memberRecord is one applied object: its identity, content hash, the revision
// that produced it and the fields tether owned right after applying it.
type memberRecord struct {
	Group     string          `json:"group,omitempty"`
	Version   string          `json:"version"`
	Kind      string          `json:"kind"`
	Namespace string          `json:"namespace,omitempty"`
	Name      string          `json:"name"`
	Hash      string          `json:"hash"`
	Revision  string          `json:"revision"`
	Fields    json.RawMessage `json:"fields,omitempty"`
	// Adopted: the object existed before tether first applied it, so tether
	// never deletes it (README: "Adoption").
	Adopted bool `json:"adopted,omitempty"`
	// PartOf: the object's ApplySet label, when it is another shard's whose
	// record this unit took over (loop_shard.go); empty when it is this unit's.
	PartOf    string    `json:"partOf,omitempty"`
	AppliedAt time.Time `json:"appliedAt,omitzero"`
}

func (m memberRecord) key() Key {
	return Key{Group: m.Group, Kind: m.Kind, Namespace: m.Namespace, Name: m.Name}
}

// parentName is the name of a unit's parent ConfigMap. It names the instance,
// so two daemons sharing an inventory namespace never share a record.
func parentName(instance, kind, unit string) string {
	return inventoryNamePrefix + instance + "-" + kind + "-" + unit
}

// applySetID is the KEP-3659 id of a parent: applyset-<base64url(sha256(
// <name>.<namespace>.<kind>.<group>))>-v1.
func applySetID(name, namespace string) string {
	sum := sha256.Sum256([]byte(name + "." + namespace + "." + parentKindForApplySets + "."))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// parentConfigMap renders a unit's record as its ApplySet parent ConfigMap.
func parentConfigMap(namespace string, rec *record) (*corev1.ConfigMap, error) {
	sort.Slice(rec.Objects, func(i, j int) bool { return rec.Objects[i].key().String() < rec.Objects[j].key().String() })
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	name := parentName(rec.Instance, rec.Kind, rec.Unit)
	return &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: parentKindForApplySets},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace,
			Labels: map[string]string{LabelApplySetID: applySetID(name, namespace), LabelInventory: rec.Kind, LabelInstance: rec.Instance,
				LabelUnit: rec.Unit, LabelShardGroup: rec.Group},
			Annotations: map[string]string{
				AnnotationTooling:    inventoryTooling,
				AnnotationGroupKinds: groupKinds(rec.Objects),
				AnnotationNamespaces: otherNamespaces(rec.Objects, namespace),
			},
		},
		Data: map[string]string{inventoryDataKey: string(data)},
	}, nil
}

// parentObject is parentConfigMap as the body of a server-side apply.
func parentObject(namespace string, rec *record) (*unstructured.Unstructured, error) {
	cm, err := parentConfigMap(namespace, rec)
	if err != nil {
		return nil, err
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cm)
	if err != nil {
		return nil, err
	}
	obj := &unstructured.Unstructured{Object: u}
	unstructured.RemoveNestedField(obj.Object, "metadata", "creationTimestamp")
	return obj, nil
}

// groupKinds lists member kinds as Kind.group, sorted, comma separated.
func groupKinds(objs []memberRecord) string {
	set := map[string]bool{}
	for _, o := range objs {
		set[schema.GroupKind{Group: o.Group, Kind: o.Kind}.String()] = true
	}
	return joinSorted(set)
}

func otherNamespaces(objs []memberRecord, own string) string {
	set := map[string]bool{}
	for _, o := range objs {
		if o.Namespace != "" && o.Namespace != own {
			set[o.Namespace] = true
		}
	}
	return joinSorted(set)
}

func joinSorted(set map[string]bool) string {
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// decodeParent reads a unit record back from its parent ConfigMap and checks
// that it is what tether wrote: a record whose name, id label or instance
// disagree with its content is refused, never acted on.
func decodeParent(cm *corev1.ConfigMap) (*record, error) {
	rec := &record{}
	if err := json.Unmarshal([]byte(cm.Data[inventoryDataKey]), rec); err != nil {
		return nil, fmt.Errorf("ConfigMap/%s/%s: inventory: %w", cm.Namespace, cm.Name, err)
	}
	want := parentName(rec.Instance, rec.Kind, rec.Unit)
	switch {
	case rec.Unit == "" || (rec.Kind != "model" && rec.Kind != "bundle"):
		return nil, fmt.Errorf("ConfigMap/%s/%s: inventory: no unit or kind in the record", cm.Namespace, cm.Name)
	case cm.Name != want:
		return nil, fmt.Errorf("ConfigMap/%s/%s: inventory: the record is for %s (renamed or copied)", cm.Namespace, cm.Name, want)
	case cm.Labels[LabelApplySetID] != applySetID(cm.Name, cm.Namespace):
		return nil, fmt.Errorf("ConfigMap/%s/%s: inventory: label %s does not match the record's name", cm.Namespace, cm.Name, LabelApplySetID)
	case cm.Labels[LabelInstance] != rec.Instance:
		return nil, fmt.Errorf("ConfigMap/%s/%s: inventory: label %s does not match the record", cm.Namespace, cm.Name, LabelInstance)
	}
	return rec, nil
}

// Inventory reads and writes one instance's unit records in one namespace.
type Inventory struct {
	applier   *Applier
	namespace string
	instance  string
	key       []byte // content hashes in records are keyed with it; read by Load
	readOnly  bool   // a reader (tether plan): never creates the key
	noKey     bool   // a reader found no key: there are no records to read
	group     string // the instance of the deployment's unsharded daemon; "" is instance (see InGroup)
}

// NewInventory keeps the records of instance in namespace, which must exist.
func NewInventory(applier *Applier, namespace, instance string) *Inventory {
	return &Inventory{applier: applier, namespace: namespace, instance: instance}
}

// Loaded is what Load found: this instance's records, and the records it
// must leave alone, reported and never acted on.
type Loaded struct {
	Records []*record
	Foreign []string // names of records of other instances (or of none)
	Invalid []error  // records of this instance that could not be decoded or checked
	Shards  shardRecords
}

// Load reads the records' hash key, then lists every record in the namespace
// with one request and keeps this instance's. An undecodable record is
// skipped and reported, never fatal.
func (inv *Inventory) Load(ctx context.Context) (Loaded, error) {
	if err := inv.loadKey(ctx); err != nil {
		return Loaded{}, fmt.Errorf("inventory: %w", err)
	}
	if inv.noKey {
		return Loaded{}, nil
	}
	list, err := inv.applier.clientset.CoreV1().ConfigMaps(inv.namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelInventory})
	if err != nil {
		return Loaded{}, fmt.Errorf("inventory: list ConfigMaps in %s: %w", inv.namespace, err)
	}
	var out Loaded
	for i := range list.Items {
		cm := &list.Items[i]
		if cm.Labels[LabelInstance] != inv.instance {
			out.Foreign = append(out.Foreign, cm.Name)
			inv.noteSibling(cm, &out.Shards)
			continue
		}
		rec, err := decodeParent(cm)
		if err == nil && rec.Instance != inv.instance {
			err = fmt.Errorf("ConfigMap/%s/%s: inventory: the record names instance %q", cm.Namespace, cm.Name, rec.Instance)
		}
		if err != nil {
			out.Invalid = append(out.Invalid, err)
			continue
		}
		rec.version, rec.uid = cm.ResourceVersion, cm.UID
		out.Records = append(out.Records, rec)
		inv.noteUnlabelled(cm, rec, &out.Shards)
	}
	return out, nil
}

// Save writes a unit's record with one server-side apply and returns the
// parent's UID.
func (inv *Inventory) Save(ctx context.Context, rec *record) (types.UID, error) {
	inv.sign(rec)
	obj, err := parentObject(inv.namespace, rec)
	if err != nil {
		return "", err
	}
	applied, _, err := inv.applier.Apply(ctx, obj)
	if err != nil {
		return "", err
	}
	return applied.UID, nil
}

// sign marks rec as this inventory's: its instance and shard group, which
// every writer of records (Save, a leader's Write) sets alike.
func (inv *Inventory) sign(rec *record) {
	rec.Instance, rec.Group = inv.instance, inv.groupName()
}

// Delete removes a unit's parent once all its members are gone; with a
// version (a leader's compare-and-set), only if the parent is still at it.
func (inv *Inventory) Delete(ctx context.Context, kind, unit, version string) error {
	name := parentName(inv.instance, kind, unit)
	opts := metav1.DeleteOptions{}
	if version != "" {
		opts.Preconditions = &metav1.Preconditions{ResourceVersion: &version}
	}
	err := inv.applier.clientset.CoreV1().ConfigMaps(inv.namespace).Delete(ctx, name, opts)
	if apierrors.IsConflict(err) {
		return fmt.Errorf("ConfigMap/%s/%s: %w (%v)", inv.namespace, name, ErrFenced, err)
	}
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("ConfigMap/%s/%s: delete: %w", inv.namespace, name, err)
	}
	return nil
}

// applySetID is the id of a unit's parent in this inventory.
func (inv *Inventory) applySetID(kind, unit string) string {
	return applySetID(parentName(inv.instance, kind, unit), inv.namespace)
}
