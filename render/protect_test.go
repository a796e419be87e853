package render_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/render"
)

// renderOne renders the repository in dir and returns its only model's
// objects, failing on any error.
func renderOne(t *testing.T, dir string, opts render.Options) []*unstructured.Unstructured {
	t.Helper()
	res, err := render.Repository(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Units) != 1 || res.Units[0].Err != nil {
		t.Fatalf("want one valid unit, got %+v", res.Units)
	}
	return res.Units[0].Objects
}

// TestProtect: spec.protect, else tether.yaml's protect, puts the label
// tether.dev/protect=true on every object of the model, overlay output
// included, and never on pod or Job templates.
func TestProtect(t *testing.T) {
	overlay := map[string]string{
		"models/m/kustomization.yaml": "resources: [extra.yaml]\n",
		"models/m/extra.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
	}
	tests := []struct {
		name     string
		settings string
		protect  string // spec.protect line, "" for none
		files    map[string]string
		objects  int
		want     bool
	}{
		{"off by default", "", "", nil, 3, false},
		{"spec.protect", "", "  protect: true\n", nil, 3, true},
		{"repository default", "protect: true\n", "", nil, 3, true},
		{"a model's false wins over the repository default", "protect: true\n", "  protect: false\n", nil, 3, false},
		{"spec.protect false without a default", "protect: false\n", "  protect: false\n", nil, 3, false},
		{"overlay output", "", "  protect: true\n", overlay, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.settings != "" {
				writeSettings(t, dir, tt.settings)
			}
			spec := with("  serving:", tt.protect+"  training:\n    command: [train]\n    schedule: \"0 3 * * *\"\n  serving:")
			writeModel(t, dir, "m", spec)
			writeTree(t, dir, tt.files)
			objs := renderOne(t, dir, render.Options{})
			if len(objs) != tt.objects {
				t.Fatalf("rendered %d objects, want %d", len(objs), tt.objects)
			}
			for _, o := range objs {
				if got := o.GetLabels()[render.LabelProtect] == "true"; got != tt.want {
					t.Errorf("%s %s: protected = %v, want %v", o.GetKind(), o.GetName(), got, tt.want)
				}
				for _, path := range [][]string{
					{"spec", "template", "metadata", "labels"},
					{"spec", "jobTemplate", "metadata", "labels"},
					{"spec", "jobTemplate", "spec", "template", "metadata", "labels"},
				} {
					labels, _, _ := unstructured.NestedStringMap(o.Object, path...)
					if _, ok := labels[render.LabelProtect]; ok {
						t.Errorf("%s %s: %s carries %s", o.GetKind(), o.GetName(), strings.Join(path, "."), render.LabelProtect)
					}
				}
			}
		})
	}
}

// TestProtectErrors: protect is validated like every other field.
func TestProtectErrors(t *testing.T) {
	t.Run("model.yaml", func(t *testing.T) {
		dir := t.TempDir()
		writeModel(t, dir, "m", with("  serving:", "  protect: always\n  serving:"))
		assertOnlyFirstFails(t, dir, render.Options{}, `models/m/model.yaml:7: spec.protect: "always" is a string; expected true or false`)
	})
	t.Run("tether.yaml", func(t *testing.T) {
		dir := t.TempDir()
		writeSettings(t, dir, "drift: report\nprotect: [all]\n")
		writeModel(t, dir, "m", validSpec)
		_, err := render.Repository(dir, render.Options{})
		want := `tether.yaml:2: protect: is a list; expected true or false`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v\nwant it to contain %q", err, want)
		}
	})
}

// TestSettingsProtect: tether.yaml's protect reaches the options; a daemon
// option already on stays on.
func TestSettingsProtect(t *testing.T) {
	dir := t.TempDir()
	writeSettings(t, dir, "protect: true\n")
	s, err := render.LoadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(render.Settings{Protect: true}, s); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if !s.Resolve(render.Options{}).DefaultProtect || !(render.Settings{}).Resolve(render.Options{DefaultProtect: true}).DefaultProtect {
		t.Error("protect must be on when tether.yaml or the options turn it on")
	}
}
