package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-ml/tether/render"
)

const validSpec = `apiVersion: tether.dev/v1alpha1
kind: Model
metadata:
  name: m
spec:
  image: registry.example.com/m@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  serving:
    port: 8080
`

// writeModel creates dir/models/<folder>/model.yaml with content.
func writeModel(t *testing.T, dir, folder, content string) {
	t.Helper()
	p := filepath.Join(dir, "models", folder)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "model.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name   string
		folder string
		spec   string
		opts   render.Options
		want   string // substring of the error, file:line: field: message
	}{
		{"unknown field", "m", strings.Replace(validSpec, "    port: 8080", "    port: 8080\n    prot: 1", 1),
			render.Options{}, `models/m/model.yaml:9: spec.serving.prot: unknown field "prot"`},
		{"wrong type", "m", strings.Replace(validSpec, "port: 8080", "port: eighty", 1),
			render.Options{}, `models/m/model.yaml:8: spec.serving.port: "eighty" is a string; expected an integer`},
		{"bad quantity", "m", strings.Replace(validSpec, "port: 8080", "port: 8080\n    resources: {cpu: lots}", 1),
			render.Options{}, `models/m/model.yaml:9: spec.serving.resources.cpu: "lots" is not a Kubernetes quantity`},
		{"bad cron", "m", strings.Replace(validSpec, "  serving:", "  training:\n    schedule: \"61 * * * *\"\n  serving:", 1),
			render.Options{}, `models/m/model.yaml:8: spec.training.schedule: "61 * * * *" is not a valid 5-field cron expression`},
		{"name differs from folder", "other", validSpec,
			render.Options{}, `models/other/model.yaml:4: metadata.name: "m" must equal its folder name "other"`},
		{"name too long", strings.Repeat("a", 41), strings.Replace(validSpec, "name: m", "name: "+strings.Repeat("a", 41), 1),
			render.Options{}, "is 41 characters; at most 40 are allowed"},
		{"missing image", "m", strings.Replace(validSpec, "  image: registry", "  modelURI: s3://x\n  notimage: registry", 1),
			render.Options{}, `unknown field "notimage"`},
		{"tag without digest under requireDigest", "m", strings.Replace(validSpec, "@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ":v1", 1),
			render.Options{RequireDigest: true}, `models/m/model.yaml:6: spec.image: "registry.example.com/m:v1" has no digest`},
		{"neither training nor serving", "m", strings.Replace(validSpec, "  serving:\n    port: 8080\n", "", 1),
			render.Options{}, "spec: has neither training nor serving"},
		{"port out of range", "m", strings.Replace(validSpec, "port: 8080", "port: 70000", 1),
			render.Options{}, `spec.serving.port: 70000 is out of range; expected 1-65535`},
		{"empty file", "m", "", render.Options{}, "models/m/model.yaml: file is empty"},
		{"invalid utf-8", "m", validSpec + "# \xff\xfe\n", render.Options{}, "models/m/model.yaml:9: file is not valid UTF-8"},
		{"alias bomb", "m", aliasBomb(), render.Options{}, "models/m/model.yaml"},
		{"too large", "m", validSpec + "#" + strings.Repeat("x", 1<<20) + "\n", render.Options{}, "at most 1048576 bytes are allowed"},
		{"bad drift mode", "m", strings.Replace(validSpec, "  serving:", "  drift: ignore\n  serving:", 1),
			render.Options{}, `spec.drift: "ignore" is not a drift mode`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeModel(t, dir, tt.folder, tt.spec)
			writeModel(t, dir, "zz-good", strings.Replace(validSpec, "name: m", "name: zz-good", 1))
			res, err := render.Repository(dir, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			units := res.Units
			if len(units) != 2 {
				t.Fatalf("got %d units, want 2", len(units))
			}
			if units[0].Err == nil || !strings.Contains(units[0].Err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %q", units[0].Err, tt.want)
			}
			if units[1].Err != nil || len(units[1].Objects) != 2 {
				t.Errorf("the valid model next to it must still render: err=%v objects=%d", units[1].Err, len(units[1].Objects))
			}
		})
	}
}

// aliasBomb is a "billion laughs" document: each level doubles the last nine times.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a: &a [x,x,x,x,x,x,x,x,x]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(n + ": &" + n + " [*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + "]\n")
		prev = n
	}
	return b.String()
}

func TestEveryErrorIsCollected(t *testing.T) {
	dir := t.TempDir()
	spec := strings.Replace(validSpec, "port: 8080", "port: 0\n    replicas: -1\n    readinessPath: healthz", 1)
	spec = strings.Replace(spec, "kind: Model", "kind: Modle", 1)
	writeModel(t, dir, "m", spec)
	res, _ := render.Repository(dir, render.Options{})
	errs, ok := res.Units[0].Err.(render.Errors)
	if !ok || len(errs) != 3 {
		t.Fatalf("want 3 errors (kind, replicas, readinessPath), got %v", res.Units[0].Err)
	}
}

func TestTrainingHash(t *testing.T) {
	base := func() *render.Model {
		return &render.Model{Metadata: render.Metadata{Name: "m"}, Spec: render.Spec{
			Image: "img", ModelURI: "s3://m",
			Training: &render.Training{Command: []string{"python"}, Env: map[string]string{"A": "1", "B": "2"}, Dataset: "s3://d"},
		}}
	}
	same := base()
	same.Spec.Training.Env = map[string]string{"B": "2", "A": "1"}
	keep := int32(9)
	retention := base()
	retention.Spec.Training.KeepRuns = &keep
	changed := base()
	changed.Spec.Training.Dataset = "s3://d2"
	newImage := base()
	newImage.Spec.Image = "img2"

	h := render.TrainingHash(base())
	if len(h) != 10 {
		t.Fatalf("hash %q: want 10 hex digits", h)
	}
	if render.TrainingHash(same) != h || render.TrainingHash(retention) != h {
		t.Error("map order or keepRuns changed the training hash")
	}
	if render.TrainingHash(changed) == h || render.TrainingHash(newImage) == h {
		t.Error("a changed dataset or image must change the training hash")
	}
	if got := render.TrainingJobName(base()); got != "m-train-"+h {
		t.Errorf("job name %q", got)
	}
}
