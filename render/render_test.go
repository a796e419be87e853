package render_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/render"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// goldenOptions are the daemon flags golden cases render with; a case's
// tether.yaml overrides them.
var goldenOptions = render.Options{DefaultNamespace: "ml", DefaultDrift: render.DriftRevert}

// TestGolden renders each repository in testdata/<case>/ and compares the YAML
// stream with testdata/<case>.golden.yaml.
func TestGolden(t *testing.T) {
	cases := goldenCases(t)
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, err := render.Repository(dir, goldenOptions)
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, dir+".golden.yaml", stream(t, res.Units))
		})
	}
}

// compareGolden compares got with the golden file, which -update rewrites.
func compareGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
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
}

// goldenCases lists the repositories under testdata (every folder but fuzz).
func goldenCases(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "fuzz" {
			cases = append(cases, filepath.Join("testdata", e.Name()))
		}
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases in testdata")
	}
	return cases
}

// stream renders units as tether render prints them; invalid units become
// comments so a golden file shows them.
func stream(t *testing.T, units []render.Unit) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, u := range units {
		if u.Err != nil {
			b.WriteString("# invalid: " + u.Name + "\n")
			continue
		}
		if err := render.WriteStream(&b, u.Objects); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestRenderIsDeterministic(t *testing.T) {
	for _, dir := range goldenCases(t) {
		first, err := render.Repository(dir, goldenOptions)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			again, _ := render.Repository(dir, goldenOptions)
			if diff := cmp.Diff(stream(t, first.Units), stream(t, again.Units)); diff != "" {
				t.Fatalf("%s: rendering twice differs:\n%s", dir, diff)
			}
			for i := range first.Units {
				if first.Units[i].Hash != again.Units[i].Hash {
					t.Fatalf("%s: unit %s hash changed between renders", dir, first.Units[i].Name)
				}
			}
		}
	}
}

// TestGoldenUnits checks what the YAML stream does not show: unit kinds,
// order (bundles first, as listed) and the settings of tether.yaml.
func TestGoldenUnits(t *testing.T) {
	res, err := render.Repository("testdata/bundles", goldenOptions)
	if err != nil {
		t.Fatal(err)
	}
	type unit struct{ Name, Kind, Namespace, Source, Drift string }
	var got []unit
	for _, u := range res.Units {
		if u.Err != nil {
			t.Errorf("%s: %v", u.Name, u.Err)
		}
		got = append(got, unit{u.Name, u.Kind, u.Namespace, u.Source, u.Drift})
	}
	want := []unit{
		{"crds", render.KindBundleUnit, "ml-prod", "bundles/crds", render.DriftReport},
		{"platform", render.KindBundleUnit, "ml-prod", "bundles/platform", render.DriftReport},
		{"ranker", render.KindModelUnit, "ml-prod", "models/ranker", render.DriftReport},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	if s := res.Settings; !s.RequireDigest || s.Drift != render.DriftReport || len(s.SyncWindows) != 1 || len(s.Bundles) != 2 {
		t.Errorf("settings not decoded: %+v", s)
	}
}
