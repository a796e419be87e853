package render_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/tether-ml/tether/render"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestGolden renders each repository in testdata/<case>/ and compares the YAML
// stream with testdata/<case>.golden.yaml.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/*/models")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for _, models := range cases {
		dir := filepath.Dir(models)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, err := render.Repository(dir, render.Options{DefaultNamespace: "ml", DefaultDrift: render.DriftRevert})
			if err != nil {
				t.Fatal(err)
			}
			got := stream(t, res.Units)
			golden := dir + ".golden.yaml"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./render -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("rendered YAML differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// stream renders units as tether render prints them; invalid units as comments.
func stream(t *testing.T, units []render.Unit) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, u := range units {
		if u.Err != nil {
			b.WriteString("# invalid: " + u.Name + "\n")
			continue
		}
		for _, obj := range u.Objects {
			data, err := yaml.Marshal(obj.Object)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString("---\n")
			b.Write(data)
		}
	}
	return b.Bytes()
}

func TestRenderIsDeterministic(t *testing.T) {
	opts := render.Options{DefaultNamespace: "ml"}
	first, _ := render.Repository("testdata/full", opts)
	for range 5 {
		again, _ := render.Repository("testdata/full", opts)
		if diff := cmp.Diff(stream(t, first.Units), stream(t, again.Units)); diff != "" {
			t.Fatalf("rendering twice differs:\n%s", diff)
		}
	}
}
