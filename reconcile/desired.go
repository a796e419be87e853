package reconcile

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-ml/tether/render"
)

// desired is one rendered object, encoded as soon as its revision is
// rendered: a pass holds a thousand models' objects as about 6 MiB of JSON
// rather than 40 MiB of decoded maps.
type desired struct {
	key   Key
	gvk   schema.GroupVersionKind
	hash  string // render.ObjectsHash of the object as rendered (and placed)
	body  []byte // the object as rendered, JSON
	place bool   // no namespace yet: the apply step decides whether it needs one
	// keepRuns is read from the annotation render puts on training Jobs.
	keepRuns int
}

func compact(obj *unstructured.Unstructured) (desired, error) {
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return desired{}, fmt.Errorf("%s: encode: %w", KeyOf(obj), err)
	}
	keepRuns, _ := strconv.Atoi(obj.GetAnnotations()[render.AnnotationKeepRuns])
	return desired{key: KeyOf(obj), gvk: obj.GroupVersionKind(), hash: render.ObjectsHash(obj), body: body,
		place: obj.GetNamespace() == "", keepRuns: keepRuns}, nil
}

func decode(body []byte) (*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(body); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return obj, nil
}

// draft is a desired object on its way to being applied: decoded at most
// once, placed into a namespace, then stamped and encoded as the body of its
// server-side apply.
type draft struct {
	*desired
	obj *unstructured.Unstructured // decoded on first use
}

func (d *draft) decoded() (*unstructured.Unstructured, error) {
	if d.obj == nil {
		obj, err := decode(d.body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.key, err)
		}
		d.obj = obj
	}
	return d.obj, nil
}

// placeIn puts the object into namespace; its key and (keyed) content hash
// follow.
func (d *draft) placeIn(namespace string, keyed func(string) string) error {
	obj, err := d.decoded()
	if err != nil {
		return err
	}
	obj.SetNamespace(namespace)
	d.key, d.hash = KeyOf(obj), keyed(render.ObjectsHash(obj))
	return nil
}

// stamp encodes the object carrying the revision that produced it and its
// ApplySet membership.
func (d *draft) stamp(revision, partOf string) ([]byte, error) {
	obj, err := d.decoded()
	if err != nil {
		return nil, err
	}
	out := obj // used once: stamping changes it in place
	ann := out.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[render.AnnotationRev] = revision
	out.SetAnnotations(ann)
	labels := out.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelApplySetPartOf] = partOf
	out.SetLabels(labels)
	foldStringData(out)
	data, err := json.Marshal(out.Object)
	if err != nil {
		return nil, fmt.Errorf("%s: encode: %w", d.key, err)
	}
	return data, nil
}

// foldStringData moves a Secret's stringData into data. The API server does the
// same on write, so ownership of stringData fields would never change and drift
// of those keys could not be seen.
func foldStringData(obj *unstructured.Unstructured) {
	if obj.GetAPIVersion() != "v1" || obj.GetKind() != "Secret" {
		return
	}
	str, found, _ := unstructured.NestedStringMap(obj.Object, "stringData")
	if !found {
		return
	}
	data, _, _ := unstructured.NestedMap(obj.Object, "data")
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range str {
		data[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	unstructured.RemoveNestedField(obj.Object, "stringData")
	_ = unstructured.SetNestedMap(obj.Object, data, "data")
}
