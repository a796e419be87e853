package render

import (
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
