package render

import (
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Labels and annotations tether puts on every object it renders.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelModel     = "tether.dev/model"
	AnnotationRev  = "tether.dev/revision"
	AnnotationSrc  = "tether.dev/source"
	// AnnotationKeepRuns on a training Job is spec.training.keepRuns.
	AnnotationKeepRuns = "tether.dev/keep-runs"
	ManagedByTether    = "tether"

	ComponentTraining = "training"
	ComponentServing  = "serving"
)

// LabelProtect marks the objects of a model with spec.protect (or tether.yaml's
// protect): the admission policy `tether admission-policy` prints selects them.
const LabelProtect = "tether.dev/protect"

// AnnotationTrainingRun on the serving objects of a model that also trains
// names the training Job (or CronJob) rendered from the same spec.
const AnnotationTrainingRun = "tether.dev/training-run"

// objectMeta builds the metadata shared by every object of one model component.
// The model's own labels come first so tether's labels always win.
func objectMeta(m *Model, name, component, source string) metav1.ObjectMeta {
	labels := maps.Clone(m.Metadata.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, selectorLabels(m, component))
	labels[LabelManagedBy] = ManagedByTether
	return metav1.ObjectMeta{
		Name:        name,
		Namespace:   m.Metadata.Namespace,
		Labels:      labels,
		Annotations: map[string]string{AnnotationSrc: source},
	}
}

// selectorLabels identify a model's pods; they never change for a model, so
// Deployment selectors (immutable) stay valid across revisions.
func selectorLabels(m *Model, component string) map[string]string {
	return map[string]string{
		LabelName:      m.Metadata.Name,
		LabelComponent: component,
		LabelModel:     m.Metadata.Name,
	}
}

// podLabels are the labels of a pod template: the model's labels and the selector.
func podLabels(m *Model, component string) map[string]string {
	labels := maps.Clone(m.Metadata.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, selectorLabels(m, component))
	return labels
}

// stampModelObjects adds what depends on every rendered object of a model,
// overlay output included: LabelProtect when the model is protected, and on
// its serving objects AnnotationTrainingRun naming its training run.
func stampModelObjects(objs []*unstructured.Unstructured, m *Model) {
	run := trainingRun(objs, m)
	for _, o := range objs {
		if *m.Spec.Protect {
			labels := o.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[LabelProtect] = "true"
			o.SetLabels(labels)
		}
		if run != "" && o.GetLabels()[LabelComponent] == ComponentServing && o.GetLabels()[LabelModel] == m.Metadata.Name {
			setAnnotation(o, AnnotationTrainingRun, run)
		}
	}
}

// trainingRun is the name of the model's training Job or CronJob as rendered
// (after an overlay renamed or prefixed it), "" when the model does not train
// or an overlay left more than one candidate.
func trainingRun(objs []*unstructured.Unstructured, m *Model) string {
	run := ""
	for _, o := range objs {
		kind, labels := o.GetKind(), o.GetLabels()
		if (kind != "Job" && kind != "CronJob") || o.GetAPIVersion() != "batch/v1" ||
			labels[LabelModel] != m.Metadata.Name || labels[LabelComponent] != ComponentTraining {
			continue
		}
		if run != "" {
			return ""
		}
		run = o.GetName()
	}
	return run
}
