package render

import (
	"bytes"
	"fmt"
	"path"
	"reflect"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// generatedFile holds the rendered model inside the in-memory copy of its
// folder; the copy of the kustomization lists it first under resources.
const generatedFile = "tether-rendered-model.yaml"

// overlay builds a model's rendered objects through models/<name>/kustomization.yaml
// when there is one (PRODUCT.md §1), and returns them unchanged otherwise.
// deps are the folders outside source the build read (see tree.outside).
func overlay(dir, source string, m *Model, rendered []*unstructured.Unstructured, warnings *[]string) (objs []*unstructured.Unstructured, deps []string, err error) {
	if kustomizationOnDisk(dir, source) == "" {
		return rendered, nil, nil
	}
	t, err := newTree(dir)
	if err != nil {
		return nil, nil, err
	}
	defer t.release()
	s, err := prepareOverlay(t, source, rendered)
	if s != nil {
		*warnings = append(*warnings, s.warnings...)
	}
	if err != nil {
		return nil, nil, err
	}
	objs, err = build(t.kustomizeFS(), memPath(source), m.Metadata.Namespace, s.deprecated)
	if err != nil {
		return nil, nil, Errors{{File: t.kustomizationIn(source), Msg: err.Error()}}
	}
	for _, o := range objs {
		stampModel(o, m, source)
	}
	renameChangedJobs(objs, rendered, m)
	SortObjects(objs)
	return objs, t.outside(source), nil
}

// prepareOverlay copies the model folder (and its components) into tree t,
// checks every kustomization in it, and adds the rendered objects: the exact
// input kustomize builds. The rendered objects are not counted against the
// tree's budget: they are in memory anyway.
func prepareOverlay(t *tree, source string, rendered []*unstructured.Unstructured) (*scanner, error) {
	if err := t.copyDir(source); err != nil {
		return nil, Errors{asFieldError(err, source)}
	}
	s := newScanner(t)
	s.scan(source, source)
	t.complete()
	if len(s.errs) > 0 {
		return s, s.errs
	}
	kfile := t.kustomizationIn(source)
	if err := addRendered(t, source, kfile, rendered); err != nil {
		return s, Errors{asFieldError(err, kfile)}
	}
	return s, nil
}

// addRendered writes the rendered objects into the tree and adds them to the
// resources of the tree's copy of kfile. The repository is never written.
// The objects go in without a namespace, so patches match them without naming
// one and a kustomization's namespace field applies; build puts them in the
// model's namespace afterwards unless the overlay chose another.
func addRendered(t *tree, source, kfile string, rendered []*unstructured.Unstructured) error {
	gen := path.Join(source, generatedFile)
	if t.fs.Exists(memPath(gen)) {
		return fmt.Errorf("%s is a name tether reserves for the rendered model; rename the file", gen)
	}
	// JSON is YAML to kustomize, and an order of magnitude cheaper to write.
	var stream bytes.Buffer
	for _, o := range rendered {
		o = o.DeepCopy()
		o.SetNamespace("")
		data, err := o.MarshalJSON()
		if err != nil {
			return err
		}
		stream.WriteString("---\n")
		stream.Write(data)
		stream.WriteString("\n")
	}
	if err := t.fs.WriteFile(memPath(gen), stream.Bytes()); err != nil {
		return err
	}
	t.checked[gen] = true // JSON: no aliases
	data, err := t.fs.ReadFile(memPath(kfile))
	if err != nil {
		return err
	}
	patched, err := prependResource(data, generatedFile)
	if err != nil {
		return err
	}
	return t.fs.WriteFile(memPath(kfile), patched)
}

// prependResource adds name at the front of a kustomization's resources,
// keeping everything else (comments included) as written.
func prependResource(data []byte, name string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	body := documentBody(&doc)
	if body == nil || body.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("expected a Kustomization mapping")
	}
	entry := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}
	if kind, _ := child(body, "kind"); kind != nil && kind.Value == "Component" {
		return nil, fmt.Errorf("kind Component cannot be a model's overlay; use kind Kustomization and list the component under components")
	}
	switch res, _ := child(body, "resources"); {
	case res == nil:
		body.Content = append(body.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "resources"},
			&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{entry}})
	case res.Kind == yaml.SequenceNode:
		res.Content = append([]*yaml.Node{entry}, res.Content...)
	case res.Tag == "!!null":
		*res = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{entry}}
	default:
		return nil, fmt.Errorf("resources is not a list")
	}
	return yaml.Marshal(&doc)
}

// stampModel makes an object built from a model overlay carry what tether
// relies on to watch and prune it: managed-by, the model label and the source
// annotation are enforced; the name label and the model's own labels are added
// where the overlay did not set them.
func stampModel(o *unstructured.Unstructured, m *Model, source string) {
	labels := o.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	for k, v := range m.Metadata.Labels {
		if _, ok := labels[k]; !ok {
			labels[k] = v
		}
	}
	if _, ok := labels[LabelName]; !ok {
		labels[LabelName] = m.Metadata.Name
	}
	labels[LabelManagedBy] = ManagedByTether
	labels[LabelModel] = m.Metadata.Name
	o.SetLabels(labels)
	setAnnotation(o, AnnotationSrc, source)
}

func setAnnotation(o *unstructured.Unstructured, key, value string) {
	annotations := o.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[key] = value
	o.SetAnnotations(annotations)
}

// renameChangedJobs keeps training Jobs content-addressed through overlays: a
// Job whose spec the overlay changed (a patch, an image, template labels) gets
// a name hashed over the final spec, so a changed overlay starts a new run
// instead of patching an immutable Job. An untouched Job keeps its name.
func renameChangedJobs(objs, rendered []*unstructured.Unstructured, m *Model) {
	var original *unstructured.Unstructured
	for _, o := range rendered {
		if o.GetKind() == "Job" {
			original = o
		}
	}
	if original == nil {
		return
	}
	hash := TrainingHash(m)
	for _, o := range objs {
		if o.GetKind() != "Job" || o.GetLabels()[LabelModel] != m.Metadata.Name || !strings.HasSuffix(o.GetName(), hash) {
			continue
		}
		if reflect.DeepEqual(o.Object["spec"], original.Object["spec"]) {
			continue
		}
		o.SetName(strings.TrimSuffix(o.GetName(), hash) + shortHash([]any{hash, o.Object["spec"]}, trainingHashLength))
	}
}

// asFieldError keeps FieldErrors as they are and gives other errors a file.
func asFieldError(err error, file string) *FieldError {
	if fe, ok := err.(*FieldError); ok {
		return fe
	}
	return &FieldError{File: file, Msg: err.Error()}
}
