package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/render"
)

func writeSettings(t *testing.T, dir, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, render.SettingsFile), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSettingsDecode(t *testing.T) {
	dir := t.TempDir()
	writeSettings(t, dir, `defaultNamespace: ml
requireDigest: true
drift: report
syncWindows:
  - kind: deny
    schedule: "CRON_TZ=Europe/Berlin 0 18 * * 5"
    duration: 62h
    models: ["fraud-*"]
    revertDrift: false
  - {kind: allow, schedule: "0 9 * * 1-5", timeZone: America/New_York, duration: 8h, manualSync: true}
preview:
  training: true
  maxGPUs: 2
  quota: {requests.cpu: "4", pods: "20", count/deployments.apps: "10"}
allowMassPrune: true
bundles: [bundles/platform, infra/crds]
`)
	got, err := render.LoadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := render.Settings{
		DefaultNamespace: "ml", RequireDigest: true, Drift: render.DriftReport,
		SyncWindows: []render.SyncWindow{
			{Kind: render.WindowDeny, Schedule: "CRON_TZ=Europe/Berlin 0 18 * * 5", Duration: 62 * time.Hour, Models: []string{"fraud-*"}, RevertDrift: false},
			{Kind: render.WindowAllow, Schedule: "0 9 * * 1-5", TimeZone: "America/New_York", Duration: 8 * time.Hour, RevertDrift: true, ManualSync: true},
		},
		Preview: render.Preview{Training: true, MaxGPUs: 2,
			Quota: map[string]string{"requests.cpu": "4", "pods": "20", "count/deployments.apps": "10"}},
		AllowMassPrune: true,
		Bundles:        []string{"bundles/platform", "infra/crds"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
}

func TestSettingsAbsentOrEmpty(t *testing.T) {
	for _, content := range []string{"", "\n\n", "# only a comment\n"} {
		dir := t.TempDir()
		writeSettings(t, dir, content)
		if s, err := render.LoadSettings(dir); err != nil || !cmp.Equal(s, render.Settings{}) {
			t.Errorf("%q: got %+v, %v; want zero settings", content, s, err)
		}
	}
	if s, err := render.LoadSettings(t.TempDir()); err != nil || !cmp.Equal(s, render.Settings{}) {
		t.Errorf("absent file: got %+v, %v", s, err)
	}
}

func TestSettingsErrors(t *testing.T) {
	window := func(fields string) string { return "syncWindows:\n  - " + fields + "\n" }
	tests := []struct {
		name    string
		content string
		want    []string // each a substring of the error
	}{
		{"unknown field", "defaultNamespace: ml\nallowMassPurge: true\n", []string{`tether.yaml:2: allowMassPurge: unknown field "allowMassPurge"`}},
		{"wrong type", "requireDigest: yes please\n", []string{`tether.yaml:1: requireDigest: "yes please" is a string; expected true or false`}},
		{"windows not a list", "syncWindows: {kind: deny}\n", []string{`tether.yaml:1: syncWindows: is a mapping; expected a list`}},
		{"bad namespace", "defaultNamespace: ML\n", []string{`tether.yaml:1: defaultNamespace: "ML" is not a valid namespace`}},
		{"bad drift", "drift: ignore\n", []string{`tether.yaml:1: drift: "ignore" is not a drift mode`}},
		{"window kind", window(`{kind: maybe, schedule: "0 9 * * *", duration: 1h}`), []string{`tether.yaml:2: syncWindows[0].kind: "maybe" is not a window kind; expected "deny" or "allow"`}},
		{"window cron", window(`{kind: deny, schedule: "0 25 * * *", duration: 1h}`), []string{`syncWindows[0].schedule: "0 25 * * *" is not a valid schedule`}},
		{"window that never opens", window(`{kind: allow, schedule: "0 9 31 4 *", duration: 1h}`), []string{`tether.yaml:2: syncWindows[0].schedule: "0 9 31 4 *" never fires (no such date, e.g. February 30)`}},
		{"window cron fields", window(`{kind: deny, schedule: "@daily", duration: 1h}`), []string{`syncWindows[0].schedule: "@daily" is not a 5-field cron expression`}},
		{"window zone", window(`{kind: deny, schedule: "CRON_TZ=Mars/Olympus 0 9 * * *", duration: 1h}`), []string{`syncWindows[0].schedule: "CRON_TZ=Mars/Olympus 0 9 * * *" is not a valid schedule`}},
		{"window zone without expression", window(`{kind: deny, schedule: "CRON_TZ=00", duration: 1h}`), []string{`syncWindows[0].schedule: "CRON_TZ=00" is not a valid schedule (unknown time zone "00" or no expression after it)`}},
		{"window zone only", window(`{kind: deny, schedule: "CRON_TZ=UTC", duration: 1h}`), []string{`is not a valid schedule`}},
		{"window time zone", window(`{kind: deny, schedule: "0 9 * * *", timeZone: Mars/Olympus, duration: 1h}`), []string{`tether.yaml:2: syncWindows[0].timeZone: "Mars/Olympus" is not an IANA time zone; expected e.g. "Europe/Berlin"`}},
		{"window local time zone", window(`{kind: deny, schedule: "0 9 * * *", timeZone: Local, duration: 1h}`), []string{`syncWindows[0].timeZone: "Local" is not an IANA time zone`}},
		{"window time zone twice", window(`{kind: deny, schedule: "CRON_TZ=UTC 0 9 * * *", timeZone: Europe/Berlin, duration: 1h}`),
			[]string{`syncWindows[0].schedule: "CRON_TZ=UTC 0 9 * * *" has a CRON_TZ= prefix and the window sets timeZone "Europe/Berlin"; use only timeZone`}},
		{"window manualSync", window(`{kind: deny, schedule: "0 9 * * *", duration: 1h, manualSync: sometimes}`), []string{`syncWindows[0].manualSync: "sometimes" is a string; expected true or false`}},
		{"window duration", window(`{kind: deny, schedule: "0 9 * * *", duration: 1d}`), []string{`syncWindows[0].duration: "1d" is not a positive duration`}},
		{"window without fields", window(`{kind: deny}`), []string{"syncWindows[0].schedule: is required", "syncWindows[0].duration: is required"}},
		{"window glob", window(`{kind: deny, schedule: "0 9 * * *", duration: 1h, models: ["[a-"]}`), []string{`syncWindows[0].models[0]: "[a-" is not a valid glob`}},
		{"bundle escapes", "bundles: [../shared]\n", []string{`tether.yaml:1: bundles[0]: "../shared" must be a clean path inside the repository`}},
		{"bundle absolute", "bundles:\n  - /etc\n", []string{`tether.yaml:2: bundles[0]: "/etc" is not a relative slash path`}},
		{"bundle unclean", "bundles: [bundles//x/]\n", []string{`"bundles//x/" must be a clean path inside the repository, e.g. "bundles/x"`}},
		{"bundle in models", "bundles: [models/x]\n", []string{`"models/x" is inside models/`}},
		{"bundle names clash", "bundles: [a/platform, b/platform]\n", []string{`bundles[1]: "b/platform" has the same name "platform" as bundles[0]`}},
		{"bundle name invalid", "bundles: [bundles/Platform_1]\n", []string{`bundles[0]: "Platform_1" is not a valid name`}},
		{"preview GPUs", "preview: {maxGPUs: -1}\n", []string{`tether.yaml:1: preview.maxGPUs: -1 is negative`}},
		{"preview quota quantity", "preview:\n  quota:\n    requests.cpu: four\n", []string{`tether.yaml:3: preview.quota.requests.cpu: "four" is not a Kubernetes quantity`}},
		{"preview quota name", "preview:\n  quota: {\"requests cpu\": \"4\"}\n", []string{`preview.quota.requests cpu: "requests cpu" is not a resource name`}},
		{"preview quota GPUs", "preview:\n  quota: {requests.nvidia.com/gpu: \"8\"}\n", []string{`preview.quota.requests.nvidia.com/gpu: GPUs are limited by preview.maxGPUs`}},
		{"preview quota negative", "preview:\n  quota: {pods: \"-1\"}\n", []string{`preview.quota.pods: "-1" is negative`}},
		{"every error at once", "drift: x\ndefaultNamespace: Y\nbundles: [/z]\n", []string{"tether.yaml:1: drift", "tether.yaml:2: defaultNamespace", "tether.yaml:3: bundles[0]"}},
		{"not a mapping", "- a\n", []string{"tether.yaml:1: expected a YAML mapping (repository settings)"}},
		{"invalid utf-8", "drift: revert\n# \xff\n", []string{"tether.yaml:2: file is not valid UTF-8"}},
		{"alias bomb", aliasBomb(), []string{"tether.yaml"}},
		{"too large", "drift: revert\n#" + strings.Repeat("x", 1<<20) + "\n", []string{"at most 1048576 bytes are allowed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSettings(t, dir, tt.content)
			writeModel(t, dir, "m", validSpec)
			res, err := render.Repository(dir, render.Options{})
			if err == nil || res != nil {
				t.Fatalf("an invalid tether.yaml must fail the whole revision; got %v, %v", res, err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v\nwant it to contain %q", err, want)
				}
			}
		})
	}
}

func TestSettingsResolve(t *testing.T) {
	flags := render.Options{DefaultNamespace: "default", RequireDigest: true, DefaultDrift: render.DriftRevert}
	tests := []struct {
		name     string
		settings render.Settings
		want     render.Options
	}{
		{"repository sets nothing", render.Settings{}, flags},
		{"repository overrides defaults", render.Settings{DefaultNamespace: "ml", Drift: render.DriftReport},
			render.Options{DefaultNamespace: "ml", RequireDigest: true, DefaultDrift: render.DriftReport}},
		{"requireDigest: the stricter wins", render.Settings{RequireDigest: false}, flags},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.settings.Resolve(flags)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if got := (render.Settings{RequireDigest: true}).Resolve(render.Options{}); !got.RequireDigest {
		t.Error("requireDigest in tether.yaml must turn the requirement on")
	}
}

// TestSettingsApplyToModels checks tether.yaml reaches rendering: its
// namespace and drift win over the flags, and its requireDigest fails an
// unpinned model even when the flag is off.
func TestSettingsApplyToModels(t *testing.T) {
	dir := t.TempDir()
	writeSettings(t, dir, "defaultNamespace: ml-prod\ndrift: report\nrequireDigest: true\n")
	writeModel(t, dir, "m", validSpec)
	writeModel(t, dir, "tagged", strings.NewReplacer("name: m", "name: tagged", digest, ":v1").Replace(validSpec))
	res, err := render.Repository(dir, render.Options{DefaultNamespace: "default", DefaultDrift: render.DriftRevert})
	if err != nil {
		t.Fatal(err)
	}
	m, tagged := res.Units[0], res.Units[1]
	if m.Err != nil || m.Namespace != "ml-prod" || m.Drift != render.DriftReport || m.Objects[0].GetNamespace() != "ml-prod" {
		t.Errorf("model m: err=%v namespace=%q drift=%q", m.Err, m.Namespace, m.Drift)
	}
	if tagged.Err == nil || !strings.Contains(tagged.Err.Error(), "has no digest; requireDigest is on") {
		t.Errorf("model tagged: want a digest error, got %v", tagged.Err)
	}
}
