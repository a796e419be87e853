package render_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/render"
)

// TestTrainingRunAnnotation: the serving objects of a model that also trains
// name the training run rendered from the same spec; changing serving alone
// keeps it, changing training moves it to the new run, and the annotation
// itself changes no training hash.
func TestTrainingRunAnnotation(t *testing.T) {
	const (
		train    = "  training:\n    command: [train]\n"
		schedule = "    schedule: \"0 3 * * *\"\n"
	)
	base := with("  serving:", train+"  serving:")
	tests := []struct {
		name  string
		spec  string
		files map[string]string
		want  string // the annotation's value: "job" for the Job's name, "" for none
	}{
		{"training and serving", base, nil, "job"},
		{"serving changed", strings.Replace(base, "port: 8080", "port: 9090\n    replicas: 3", 1), nil, "job"},
		{"training changed", strings.Replace(base, "[train]", "[train, --fast]", 1), nil, "job"},
		{"protected", with("  serving:", "  protect: true\n"+train+"  serving:"), nil, "job"},
		{"scheduled training", with("  serving:", train+schedule+"  serving:"), nil, "m-train"},
		{"serving only", validSpec, nil, ""},
		{"overlay renames the Job", base, map[string]string{"models/m/kustomization.yaml": "images: [{name: registry.example.com/m, newName: mirror.example.com/m}]\n"}, "job"},
		{"overlay prefixes the CronJob", with("  serving:", train+schedule+"  serving:"), map[string]string{"models/m/kustomization.yaml": "namePrefix: team-\n"}, "team-m-train"},
	}
	runs := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeModel(t, dir, "m", tt.spec)
			writeTree(t, dir, tt.files)
			objs := renderOne(t, dir, render.Options{})
			want := tt.want
			for _, o := range objs {
				if o.GetKind() == "Job" && want == "job" {
					want = o.GetName()
					runs[tt.name] = want
				}
			}
			serving := 0
			for _, o := range objs {
				got, ok := o.GetAnnotations()[render.AnnotationTrainingRun]
				switch o.GetLabels()[render.LabelComponent] {
				case render.ComponentServing:
					serving++
					if got != want || ok != (want != "") {
						t.Errorf("%s %s: %s = %q, want %q", o.GetKind(), o.GetName(), render.AnnotationTrainingRun, got, want)
					}
				case render.ComponentTraining:
					if ok {
						t.Errorf("%s %s: training object carries %s", o.GetKind(), o.GetName(), render.AnnotationTrainingRun)
					}
				}
			}
			if serving != 2 {
				t.Errorf("%d serving objects, want 2", serving)
			}
		})
	}
	first := runs["training and serving"]
	if !strings.HasPrefix(first, "m-train-") || runs["serving changed"] != first || runs["protected"] != first {
		t.Errorf("serving or protect changed the training run: %v", runs)
	}
	if runs["training changed"] == first || runs["overlay renames the Job"] == first {
		t.Errorf("a changed training spec or image must name a new run: %v", runs)
	}
}

// TestLineage: a model's unit names the image its objects run (after an
// overlay's images), its digest when pinned, modelURI, dataset and training run.
func TestLineage(t *testing.T) {
	const (
		img      = "registry.example.com/m" + digest
		training = "  modelURI: s3://models/m/v7\n  training:\n    command: [train]\n    dataset: s3://data/m/2026-11\n"
	)
	tests := []struct {
		name  string
		spec  string
		files map[string]string
		want  render.Lineage
	}{
		{"serving only", validSpec, nil, render.Lineage{Image: img, ImageDigest: digest[1:]}},
		{"training and serving", with("  serving:", training+"  serving:"), nil,
			render.Lineage{Image: img, ImageDigest: digest[1:], ModelURI: "s3://models/m/v7", Dataset: "s3://data/m/2026-11", TrainingRun: "job", TrainingRunKind: "Job"}},
		{"scheduled training only", strings.Replace(with("  serving:\n    port: 8080\n", training+"    schedule: \"0 3 * * *\"\n"), "m"+digest, "m:v2", 1), nil,
			render.Lineage{Image: "registry.example.com/m:v2", ModelURI: "s3://models/m/v7", Dataset: "s3://data/m/2026-11", TrainingRun: "m-train", TrainingRunKind: "CronJob"}},
		{"overlay changes the image", validSpec, map[string]string{"models/m/kustomization.yaml": "images: [{name: registry.example.com/m, newName: mirror.example.com/m}]\n"},
			render.Lineage{Image: "mirror.example.com/m" + digest, ImageDigest: digest[1:]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeModel(t, dir, "m", tt.spec)
			writeTree(t, dir, tt.files)
			res, err := render.Repository(dir, render.Options{DefaultNamespace: "ml"})
			if err != nil || res.Units[0].Err != nil {
				t.Fatal(err, res.Units[0].Err)
			}
			u := res.Units[0]
			want := tt.want
			if want.TrainingRun == "job" {
				for _, o := range u.Objects {
					if o.GetKind() == "Job" {
						want.TrainingRun = o.GetName()
					}
				}
			}
			if diff := cmp.Diff(want, u.Lineage); diff != "" {
				t.Errorf("lineage (-want +got):\n%s", diff)
			}
		})
	}
}
