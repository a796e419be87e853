package render

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Lineage is what a model's rendered objects trace back to, for /status: the
// image they run, the model and data they were built from, and the training
// run its serving objects name. A bundle has none.
type Lineage struct {
	Image       string `json:"image,omitempty"`       // as rendered (after an overlay's images), serving's first
	ImageDigest string `json:"imageDigest,omitempty"` // sha256:... when the image is pinned by digest
	ModelURI    string `json:"modelURI,omitempty"`
	Dataset     string `json:"dataset,omitempty"`
	// TrainingRun is the training Job (or CronJob) rendered from the same
	// spec: the value of AnnotationTrainingRun on the serving objects.
	TrainingRun     string `json:"trainingRun,omitempty"`
	TrainingRunKind string `json:"trainingRunKind,omitempty"` // Job or CronJob
}

// lineageOf reads a model's lineage from its spec and rendered objects.
func lineageOf(m *Model, objs []*unstructured.Unstructured) Lineage {
	l := Lineage{ModelURI: m.Spec.ModelURI}
	if t := m.Spec.Training; t != nil {
		l.Dataset = t.Dataset
	}
	for _, component := range []string{ComponentServing, ComponentTraining} {
		if img := componentImage(objs, m.Metadata.Name, component); img != "" && l.Image == "" {
			l.Image = img
		}
	}
	if _, d, ok := strings.Cut(l.Image, "@"); ok {
		l.ImageDigest = d
	}
	if run := trainingRun(objs, m); run != "" {
		l.TrainingRun, l.TrainingRunKind = run, "Job"
		if m.Spec.Training.Schedule != "" {
			l.TrainingRunKind = "CronJob"
		}
	}
	return l
}

// componentImage is the first container image of the model's Deployment
// (serving) or training Job or CronJob.
func componentImage(objs []*unstructured.Unstructured, model, component string) string {
	for _, o := range objs {
		labels := o.GetLabels()
		if labels[LabelModel] != model || labels[LabelComponent] != component || o.GetAPIVersion() == "v1" {
			continue
		}
		path := []string{"spec", "template", "spec", "containers"}
		if o.GetKind() == "CronJob" {
			path = []string{"spec", "jobTemplate", "spec", "template", "spec", "containers"}
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, path...)
		if len(containers) == 0 {
			continue
		}
		if c, ok := containers[0].(map[string]any); ok {
			if img, ok := c["image"].(string); ok {
				return img
			}
		}
	}
	return ""
}
