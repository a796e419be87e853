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
func writeModel(t testing.TB, dir, folder, content string) {
	t.Helper()
	p := filepath.Join(dir, "models", folder)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "model.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// with returns validSpec with old replaced by new (which must occur).
func with(old, new string) string {
	if !strings.Contains(validSpec, old) {
		panic("validSpec has no " + old)
	}
	return strings.Replace(validSpec, old, new, 1)
}

const digest = "@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestValidationErrors(t *testing.T) {
	training := func(lines string) string { return with("  serving:", "  training:\n"+lines+"  serving:") }
	serving := func(lines string) string { return with("    port: 8080\n", "    port: 8080\n"+lines) }
	tests := []struct {
		name   string
		folder string
		spec   string
		opts   render.Options
		want   string // substring of the error, file:line: field: message
	}{
		// decoding
		{"unknown field", "m", serving("    prot: 1\n"), render.Options{},
			`models/m/model.yaml:9: spec.serving.prot: unknown field "prot"`},
		{"wrong type", "m", with("port: 8080", "port: eighty"), render.Options{},
			`models/m/model.yaml:8: spec.serving.port: "eighty" is a string; expected an integer`},
		{"wrong type for a section", "m", with("  serving:\n    port: 8080\n", "  serving: [8080]\n"), render.Options{},
			`models/m/model.yaml:7: spec.serving: is a list; expected a mapping`},
		{"list for a string", "m", serving("    readinessPath: [a, b]\n"), render.Options{},
			`models/m/model.yaml:9: spec.serving.readinessPath: is a list; expected a string`},
		{"duplicate key", "m", serving("    port: 9090\n"), render.Options{},
			`models/m/model.yaml:9: spec.serving.port: mapping key "port" already defined at line 8`},
		{"empty file", "m", "", render.Options{}, "models/m/model.yaml: file is empty"},
		{"only comments", "m", "# nothing here\n", render.Options{}, "expected a YAML mapping (a Model document)"},
		{"not a mapping", "m", "- a\n- b\n", render.Options{}, "models/m/model.yaml:1: expected a YAML mapping"},
		{"two documents", "m", validSpec + "---\nkind: Model\n", render.Options{}, "models/m/model.yaml:9: expected exactly one YAML document"},
		{"invalid utf-8", "m", validSpec + "# \xff\xfe\n", render.Options{}, "models/m/model.yaml:9: file is not valid UTF-8"},
		{"alias bomb", "m", aliasBomb(), render.Options{}, "models/m/model.yaml"},
		{"too large", "m", validSpec + "#" + strings.Repeat("x", 1<<20) + "\n", render.Options{}, "at most 1048576 bytes are allowed"},
		// header and metadata
		{"bad apiVersion", "m", with("tether.dev/v1alpha1", "tether.dev/v2"), render.Options{},
			`models/m/model.yaml:1: apiVersion: "tether.dev/v2" is not supported; expected "tether.dev/v1alpha1"`},
		{"name differs from folder", "other", validSpec, render.Options{},
			`models/other/model.yaml:4: metadata.name: "m" must equal its folder name "other"`},
		{"name too long", strings.Repeat("a", 41), with("name: m", "name: "+strings.Repeat("a", 41)), render.Options{},
			"is 41 characters; at most 40 are allowed"},
		{"folder is not a DNS label", "Fraud_Detector", with("  name: m\n", ""), render.Options{},
			`metadata.name: "Fraud_Detector" is not a valid name`},
		{"bad namespace", "m", with("  name: m\n", "  name: m\n  namespace: ML_Team\n"), render.Options{},
			`models/m/model.yaml:5: metadata.namespace: "ML_Team" is not a valid namespace`},
		{"bad label value", "m", with("  name: m\n", "  name: m\n  labels: {team: \"risk team\"}\n"), render.Options{},
			`metadata.labels.team: "risk team" is not a valid label value`},
		{"shard label not a DNS label", "m", with("  name: m\n", "  name: m\n  labels:\n    tether.dev/shard: Shard_A\n"), render.Options{},
			`models/m/model.yaml:6: metadata.labels.tether.dev/shard: "Shard_A" is not a valid shard name`},
		{"shard name too long", "m", with("  name: m\n", "  name: m\n  labels:\n    tether.dev/shard: "+strings.Repeat("s", 21)+"\n"), render.Options{},
			`metadata.labels.tether.dev/shard: "sssssssssssssssssssss" is 21 characters; a shard name has at most 20`},
		{"label set by tether", "m", with("  name: m\n", "  name: m\n  labels:\n    tether.dev/model: x\n"), render.Options{},
			`models/m/model.yaml:6: metadata.labels.tether.dev/model: "tether.dev/model" is set by tether on every object`},
		// image
		{"missing image", "m", with("  image: registry.example.com/m"+digest+"\n", ""), render.Options{},
			`models/m/model.yaml:5: spec.image: is required`},
		{"bad image reference", "m", with("registry.example.com/m", "Registry Example/M"), render.Options{},
			`spec.image: "Registry Example/M` + digest + `" is not a valid image reference`},
		{"tag without digest under requireDigest", "m", with(digest, ":v1"), render.Options{RequireDigest: true},
			`models/m/model.yaml:6: spec.image: "registry.example.com/m:v1" has no digest`},
		{"bad drift mode", "m", with("  serving:", "  drift: ignore\n  serving:"), render.Options{},
			`spec.drift: "ignore" is not a drift mode`},
		{"neither training nor serving", "m", with("  serving:\n    port: 8080\n", ""), render.Options{},
			"spec: has neither training nor serving"},
		// training
		{"bad cron", "m", training("    schedule: \"61 * * * *\"\n"), render.Options{},
			`models/m/model.yaml:8: spec.training.schedule: "61 * * * *" is not a valid 5-field cron expression`},
		{"cron with four fields", "m", training("    schedule: \"0 3 * *\"\n"), render.Options{},
			`spec.training.schedule: "0 3 * *" is not a valid 5-field cron expression`},
		{"cron descriptor", "m", training("    schedule: \"@daily\"\n"), render.Options{},
			`spec.training.schedule: "@daily" is not a valid 5-field cron expression`},
		{"cron with a time zone", "m", training("    schedule: \"CRON_TZ=UTC\"\n"), render.Options{},
			`spec.training.schedule: "CRON_TZ=UTC" is not a valid 5-field cron expression (a time zone prefix is not allowed here)`},
		{"negative backoffLimit", "m", training("    backoffLimit: -1\n"), render.Options{},
			`spec.training.backoffLimit: -1 is negative`},
		{"zero activeDeadlineSeconds", "m", training("    activeDeadlineSeconds: 0\n"), render.Options{},
			`spec.training.activeDeadlineSeconds: 0 must be positive`},
		{"zero keepRuns", "m", training("    keepRuns: 0\n"), render.Options{},
			`spec.training.keepRuns: 0 must be at least 1`},
		{"reserved env DATASET_URI", "m", training("    env: {DATASET_URI: s3://x}\n"), render.Options{},
			`models/m/model.yaml:8: spec.training.env.DATASET_URI: "DATASET_URI" is reserved: tether sets it from spec.training.dataset`},
		{"reserved env MODEL_URI", "m", serving("    env:\n      MODEL_URI: s3://x\n"), render.Options{},
			`models/m/model.yaml:10: spec.serving.env.MODEL_URI: "MODEL_URI" is reserved: tether sets it from spec.modelURI`},
		{"bad env name", "m", serving("    env: {\"1X\": y}\n"), render.Options{},
			`spec.serving.env.1X: "1X" is not a valid environment variable name`},
		// resources
		{"bad quantity", "m", serving("    resources: {cpu: lots}\n"), render.Options{},
			`models/m/model.yaml:9: spec.serving.resources.cpu: "lots" is not a Kubernetes quantity`},
		{"quantity with a huge exponent", "m", serving("    resources: {cpu: 1e-2147483648}\n"), render.Options{},
			`spec.serving.resources.cpu: "1e-2147483648" is out of range`},
		{"negative quantity", "m", serving("    resources: {memory: -1Gi}\n"), render.Options{},
			`spec.serving.resources.memory: "-1Gi" is negative`},
		{"negative gpu", "m", training("    resources: {gpu: -1}\n"), render.Options{},
			`spec.training.resources.gpu: -1 is negative`},
		// serving
		{"port out of range", "m", with("port: 8080", "port: 70000"), render.Options{},
			`spec.serving.port: 70000 is out of range; expected 1-65535`},
		{"port zero", "m", with("port: 8080", "port: 0"), render.Options{},
			`models/m/model.yaml:8: spec.serving.port: 0 is out of range; expected 1-65535`},
		{"negative replicas", "m", serving("    replicas: -2\n"), render.Options{},
			`spec.serving.replicas: -2 is negative`},
		{"readinessPath without slash", "m", serving("    readinessPath: healthz\n"), render.Options{},
			`spec.serving.readinessPath: "healthz" must start with /`},
		{"autoscaling without maxReplicas", "m", serving("    autoscaling: {minReplicas: 2}\n"), render.Options{},
			`spec.serving.autoscaling.maxReplicas: 0 must be at least 1`},
		{"minReplicas above maxReplicas", "m", serving("    autoscaling: {minReplicas: 5, maxReplicas: 3}\n"), render.Options{},
			`spec.serving.autoscaling.minReplicas: 5 must be between 1 and maxReplicas (3)`},
		{"cpu target out of range", "m", serving("    autoscaling: {maxReplicas: 3, targetCPUUtilizationPercentage: 150}\n"), render.Options{},
			`spec.serving.autoscaling.targetCPUUtilizationPercentage: 150 is out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeModel(t, dir, tt.folder, tt.spec)
			assertOnlyFirstFails(t, dir, tt.opts, tt.want)
		})
	}
}

// assertOnlyFirstFails renders dir next to a valid model "zz-good" and checks
// that the first unit fails with want while zz-good still renders.
func assertOnlyFirstFails(t *testing.T, dir string, opts render.Options, want string) {
	t.Helper()
	writeModel(t, dir, "zz-good", strings.Replace(validSpec, "name: m", "name: zz-good", 1))
	res, err := render.Repository(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	units := res.Units
	if len(units) != 2 {
		t.Fatalf("got %d units, want 2", len(units))
	}
	if units[0].Err == nil || !strings.Contains(units[0].Err.Error(), want) {
		t.Errorf("error = %v\nwant it to contain %q", units[0].Err, want)
	}
	if units[0].Objects != nil {
		t.Errorf("an invalid unit must have no objects")
	}
	if units[1].Err != nil || len(units[1].Objects) != 2 {
		t.Errorf("the valid model next to it must still render: err=%v objects=%d", units[1].Err, len(units[1].Objects))
	}
}

func TestModelFolderProblems(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"missing model.yaml", func(t *testing.T, dir string) {
			mkdir(t, filepath.Join(dir, "models", "m"))
		}, "models/m/model.yaml: missing; every model folder needs a model.yaml"},
		{"model.yaml is a symlink", func(t *testing.T, dir string) {
			writeModel(t, dir, "real", validSpec)
			mkdir(t, filepath.Join(dir, "models", "m"))
			symlink(t, "../real/model.yaml", filepath.Join(dir, "models", "m", "model.yaml"))
		}, "models/m/model.yaml: is not a regular file"},
		{"model folder is a symlink", func(t *testing.T, dir string) {
			mkdir(t, filepath.Join(dir, "elsewhere"))
			mkdir(t, filepath.Join(dir, "models"))
			symlink(t, "../elsewhere", filepath.Join(dir, "models", "m"))
		}, "models/m: is a symlink; model folders must be real directories"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			res, err := render.Repository(dir, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, u := range res.Units {
				if u.Name == "m" {
					found = true
					if u.Err == nil || !strings.Contains(u.Err.Error(), tt.want) {
						t.Errorf("error = %v\nwant it to contain %q", u.Err, tt.want)
					}
				}
			}
			if !found {
				t.Errorf("no unit for models/m in %+v", res.Units)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string
	}{
		{"unpinned tag", with(digest, ":v1"), `models/m/model.yaml:6: spec.image: "registry.example.com/m:v1" is not pinned by digest`},
		{"replicas with autoscaling", with("    port: 8080\n", "    port: 8080\n    replicas: 2\n    autoscaling: {maxReplicas: 3}\n"),
			"models/m/model.yaml:9: spec.serving.replicas: is ignored because spec.serving.autoscaling is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeModel(t, dir, "m", tt.spec)
			res, err := render.Repository(dir, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			u := res.Units[0]
			if u.Err != nil || len(u.Objects) == 0 {
				t.Fatalf("a warning must not stop the model: %v", u.Err)
			}
			if got := strings.Join(u.Warnings, "\n"); !strings.Contains(got, tt.want) {
				t.Errorf("warnings = %q\nwant %q", got, tt.want)
			}
		})
	}
}

func mkdir(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
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
	spec := strings.Replace(validSpec, "port: 8080", "port: 0\n    replicas: -1\n    readinessPath: healthz\n    prot: 1", 1)
	spec = strings.Replace(spec, "kind: Model", "kind: Modle", 1)
	writeModel(t, dir, "m", spec)
	res, _ := render.Repository(dir, render.Options{})
	errs, ok := res.Units[0].Err.(render.Errors)
	if !ok || len(errs) != 5 {
		t.Fatalf("want 5 errors (kind, port, replicas, readinessPath, prot), got %v", res.Units[0].Err)
	}
	for i := 1; i < len(errs); i++ {
		if errs[i].Line < errs[i-1].Line {
			t.Errorf("errors are not in line order: %v", errs)
		}
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
