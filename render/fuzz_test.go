package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// addSeeds adds the files matching pattern to the fuzz corpus.
func addSeeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds match %s: %v", pattern, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzDecodeModel feeds arbitrary bytes through decoding, validation and
// rendering: every problem must be an error with a file, never a panic, and
// whatever validates must render.
func FuzzDecodeModel(f *testing.F) {
	addSeeds(f, "testdata/*/models/*/model.yaml")
	f.Add([]byte("apiVersion: tether.dev/v1alpha1\nkind: Model\nspec: {image: x, serving: {port: 0, autoscaling: {maxReplicas: 1}}}\n"))
	f.Add([]byte("a: &a [x]\nb: &b [*a,*a]\nspec: *b\n"))
	f.Add([]byte("spec:\n  training:\n    resources: {cpu: 1e3, memory: \"0.5Gi\", gpu: 9223372036854775807}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "models/m/model.yaml"
		m, root, errs := decodeModel(file, data)
		checkErrors(t, file, errs)
		if m == nil {
			if len(errs) == 0 {
				t.Fatal("no model and no error")
			}
			return
		}
		verrs, _ := validate(file, "m", root, m, Options{})
		checkErrors(t, file, verrs)
		if len(mergeErrors(errs, verrs)) > 0 {
			return
		}
		applyDefaults(m, "m", Options{DefaultNamespace: "ml", DefaultDrift: DriftRevert})
		objs, err := renderModel(m, "models/m")
		if err != nil {
			t.Fatalf("a valid model failed to render: %v", err)
		}
		if err := WriteStream(&bytes.Buffer{}, objs); err != nil {
			t.Fatalf("rendered objects do not marshal: %v", err)
		}
		if len(TrainingJobName(m)) > 63 {
			t.Fatalf("job name %q is longer than 63 characters", TrainingJobName(m))
		}
	})
}

// FuzzDecodeSettings does the same for tether.yaml: errors or settings whose
// windows and merge rules work.
func FuzzDecodeSettings(f *testing.F) {
	addSeeds(f, "testdata/*/tether.yaml")
	f.Add([]byte("syncWindows: [{kind: allow, schedule: \"CRON_TZ=Asia/Tokyo 0 9 * * 1-5\", duration: 8h, models: [\"a*\"]}]\n"))
	f.Add([]byte("syncWindows: [{kind: deny, schedule: \"30 2 * * *\", timeZone: Europe/Berlin, duration: 1h, manualSync: true}]\n"))
	f.Add([]byte("bundles: [a/b, ../c, /d, a//b]\nrequireDigest: true\n"))
	f.Add([]byte("# only comments\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSettings(SettingsFile, data)
		if err != nil {
			errs, ok := err.(Errors)
			if !ok || len(errs) == 0 {
				t.Fatalf("error %v is not a non-empty Errors", err)
			}
			checkErrors(t, SettingsFile, errs)
			return
		}
		at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		for _, w := range s.SyncWindows {
			if _, err := parseWindowSchedule(w.Schedule, w.TimeZone); err != nil || w.Duration <= 0 {
				t.Fatalf("a valid window does not parse: %+v: %v", w, err)
			}
			w.Active(at)
		}
		s.SyncAllowed("m", at)
		s.RevertAllowed("m", at)
		s.WindowsFor("m").NextSync(at)
		if opts := s.Resolve(Options{RequireDigest: true}); !opts.RequireDigest {
			t.Fatal("settings turned requireDigest off")
		}
		for _, b := range s.Bundles {
			if strings.HasPrefix(b, "../") || strings.HasPrefix(b, "/") {
				t.Fatalf("bundle path %q escapes the repository", b)
			}
		}
	})
}

func checkErrors(t *testing.T, file string, errs Errors) {
	t.Helper()
	for _, e := range errs {
		if e.File != file || e.Msg == "" || !strings.HasPrefix(e.Error(), file) {
			t.Fatalf("malformed error %#v", e)
		}
	}
}
