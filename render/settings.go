package render

import (
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// SettingsFile is the optional repository-wide settings file at the repository root.
const SettingsFile = "tether.yaml"

// Settings are the repository-wide settings of tether.yaml (PRODUCT.md §5), as
// decoded and validated; the zero value when the file is absent. Resolve merges
// them with the daemon's flags.
type Settings struct {
	DefaultNamespace string       // namespace for models that name none; overrides --default-namespace
	RequireDigest    bool         // images must be pinned by digest; ORed with --require-digest
	Drift            string       // revert or report; overrides --drift
	SyncWindows      []SyncWindow // when new revisions may be applied
	Preview          Preview      // what preview environments deploy
	AllowMassPrune   bool         // let this revision prune more than --max-prune
	Bundles          []string     // plain kustomize folders to apply, slash paths relative to the repository
	Protect          bool         // protect models that do not set spec.protect
}

// Preview configures the preview environments of pull requests. Only the
// tracked branch's tether.yaml sets it: a pull request cannot lift its own
// limits.
type Preview struct {
	Training bool `yaml:"training"` // also run training in preview namespaces
	// MaxGPUs is how many GPUs (nvidia.com/gpu) one preview may request in
	// all; 0 (the default) refuses every model that asks for one.
	MaxGPUs int `yaml:"maxGPUs"`
	// Quota adds hard limits to each preview namespace's ResourceQuota
	// (resource name → quantity, e.g. requests.cpu: "4", pods: "20"); its GPU
	// limit is always MaxGPUs.
	Quota map[string]string `yaml:"quota"`
}

// SyncWindow opens (allow) or closes (deny) the repository to new revisions for
// Duration after each time Schedule fires.
type SyncWindow struct {
	Kind        string        // WindowAllow or WindowDeny
	Schedule    string        // 5-field cron, UTC unless TimeZone is set or it is prefixed with CRON_TZ=<zone>
	TimeZone    string        // IANA zone Schedule is read in; daylight saving time is handled
	Duration    time.Duration // how long the window stays open after each start (elapsed time)
	Models      []string      // path.Match globs of model and bundle names; empty means every one
	RevertDrift bool          // keep reverting drift while this window blocks syncs (default true)
	ManualSync  bool          // a sync requested by hand goes through while this window blocks syncs
}

// Sync window kinds.
const (
	WindowAllow = "allow"
	WindowDeny  = "deny"
)

// Resolve returns the options rendering uses when the daemon was started with
// flags: the repository overrides flag defaults where both set the same thing,
// except safety settings, where the stricter wins (requireDigest and protect
// are ORed).
func (s Settings) Resolve(flags Options) Options {
	opts := flags
	if s.DefaultNamespace != "" {
		opts.DefaultNamespace = s.DefaultNamespace
	}
	if s.Drift != "" {
		opts.DefaultDrift = s.Drift
	}
	opts.RequireDigest = flags.RequireDigest || s.RequireDigest
	opts.DefaultProtect = flags.DefaultProtect || s.Protect
	return opts
}

// settingsFile is tether.yaml as written.
type settingsFile struct {
	DefaultNamespace string           `yaml:"defaultNamespace"`
	RequireDigest    bool             `yaml:"requireDigest"`
	Drift            string           `yaml:"drift"`
	SyncWindows      []syncWindowFile `yaml:"syncWindows"`
	Preview          Preview          `yaml:"preview"`
	AllowMassPrune   bool             `yaml:"allowMassPrune"`
	Bundles          []string         `yaml:"bundles"`
	Protect          bool             `yaml:"protect"`
}

type syncWindowFile struct {
	Kind        string   `yaml:"kind"`
	Schedule    string   `yaml:"schedule"`
	TimeZone    string   `yaml:"timeZone"`
	Duration    string   `yaml:"duration"`
	Models      []string `yaml:"models"`
	RevertDrift *bool    `yaml:"revertDrift"`
	ManualSync  bool     `yaml:"manualSync"`
}

// LoadSettings reads and validates dir/tether.yaml. A missing file yields zero
// Settings; an invalid one yields Errors naming every problem, and then
// nothing of that revision may be applied or pruned.
func LoadSettings(dir string) (Settings, error) {
	data, err := readSpec(filepath.Join(dir, SettingsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, Errors{{File: SettingsFile, Msg: err.Error()}}
	}
	return decodeSettings(SettingsFile, data)
}

// decodeSettings strictly decodes and validates one tether.yaml. A file with
// no content (or only comments) is valid and sets nothing.
func decodeSettings(file string, data []byte) (Settings, error) {
	if errs := checkRaw(file, data, "repository settings"); errs != nil {
		if len(strings.TrimSpace(string(data))) == 0 {
			return Settings{}, nil
		}
		return Settings{}, errs
	}
	var raw settingsFile
	root, decodeErrs, ok := decodeStrict(file, data, &raw, "repository settings")
	if root != nil && len(root.Content) == 0 {
		return Settings{}, nil // comments only
	}
	if !ok {
		return Settings{}, decodeErrs
	}
	v := &validator{file: file, root: root}
	s := v.settings(&raw)
	if errs := mergeErrors(decodeErrs, v.sorted()); len(errs) > 0 {
		return Settings{}, errs
	}
	return s, nil
}

// settings validates raw and converts it to Settings.
func (v *validator) settings(raw *settingsFile) Settings {
	s := Settings{
		DefaultNamespace: raw.DefaultNamespace, RequireDigest: raw.RequireDigest, Drift: raw.Drift,
		Preview: raw.Preview, AllowMassPrune: raw.AllowMassPrune, Bundles: raw.Bundles, Protect: raw.Protect,
	}
	if raw.DefaultNamespace != "" {
		v.namespace("defaultNamespace", raw.DefaultNamespace)
	}
	v.drift("drift", raw.Drift)
	for i := range raw.SyncWindows {
		s.SyncWindows = append(s.SyncWindows, v.syncWindow(syncWindowField(i), &raw.SyncWindows[i]))
	}
	v.bundles(raw.Bundles)
	v.preview(raw.Preview)
	return s
}

// preview checks the preview settings: a GPU count, and quota entries
// naming resources with quantities, leaving the GPU limit to maxGPUs.
func (v *validator) preview(p Preview) {
	if p.MaxGPUs < 0 {
		v.fail("preview.maxGPUs", "%d is negative; expected a number of GPUs, 0 or more", p.MaxGPUs)
	}
	for _, name := range sortedKeys(p.Quota) {
		field := "preview.quota." + name
		q, err := resource.ParseQuantity(p.Quota[name])
		switch {
		case len(validation.IsQualifiedName(name)) > 0:
			v.fail(field, "%q is not a resource name; expected e.g. requests.cpu, limits.memory or pods", name)
		case strings.HasSuffix(name, "/gpu"):
			v.fail(field, "GPUs are limited by preview.maxGPUs; remove %s", name)
		case err != nil || hugeExponent.MatchString(p.Quota[name]):
			v.fail(field, "%q is not a Kubernetes quantity; expected e.g. \"4\", \"500m\" or \"8Gi\"", p.Quota[name])
		case q.Sign() < 0:
			v.fail(field, "%q is negative; expected a quantity, 0 or more", p.Quota[name])
		}
	}
}

func syncWindowField(i int) string { return "syncWindows[" + strconv.Itoa(i) + "]" }

func (v *validator) syncWindow(field string, w *syncWindowFile) SyncWindow {
	out := SyncWindow{Kind: w.Kind, Schedule: w.Schedule, TimeZone: w.TimeZone, Models: w.Models,
		RevertDrift: w.RevertDrift == nil || *w.RevertDrift, ManualSync: w.ManualSync}
	if w.Kind != WindowAllow && w.Kind != WindowDeny {
		v.fail(field+".kind", "%q is not a window kind; expected %q or %q", w.Kind, WindowDeny, WindowAllow)
	}
	v.windowSchedule(field, w)
	d, err := time.ParseDuration(w.Duration)
	switch {
	case w.Duration == "":
		v.fail(field+".duration", "is required; expected a duration such as \"8h\" or \"90m\"")
	case err != nil || d <= 0:
		v.fail(field+".duration", "%q is not a positive duration; expected e.g. \"8h\" or \"90m\"", w.Duration)
	}
	out.Duration = d
	for i, glob := range w.Models {
		if _, err := path.Match(glob, ""); err != nil || glob == "" {
			v.fail(field+".models["+strconv.Itoa(i)+"]", "%q is not a valid glob; expected e.g. \"*\" or \"fraud-*\"", glob)
		}
	}
	return out
}

// windowSchedule checks a window's schedule and time zone.
func (v *validator) windowSchedule(field string, w *syncWindowFile) {
	if w.TimeZone != "" {
		if _, err := time.LoadLocation(w.TimeZone); err != nil || w.TimeZone == "Local" {
			v.fail(field+".timeZone", "%q is not an IANA time zone; expected e.g. \"Europe/Berlin\" or \"UTC\"", w.TimeZone)
			return
		}
	}
	if w.Schedule == "" {
		v.fail(field+".schedule", "is required; expected a 5-field cron expression such as \"0 9 * * 1-5\"")
		return
	}
	zone, expr := splitCronTZ(w.Schedule)
	switch _, err := parseWindowSchedule(w.Schedule, w.TimeZone); {
	case zone != "" && w.TimeZone != "":
		v.fail(field+".schedule", "%q has a CRON_TZ= prefix and the window sets timeZone %q; use only timeZone", w.Schedule, w.TimeZone)
	case err != nil:
		v.fail(field+".schedule", "%q is not a valid schedule (%v)", w.Schedule, err)
	case len(strings.Fields(expr)) != 5:
		v.fail(field+".schedule", "%q is not a 5-field cron expression; expected minute hour day-of-month month day-of-week", w.Schedule)
	case windowNeverOpens(w.Schedule, w.TimeZone):
		v.fail(field+".schedule", "%q never fires (no such date, e.g. February 30); expected a schedule that opens the window", w.Schedule)
	}
}

// windowNeverOpens reports whether a valid window schedule names no date
// that exists (issue 11: found by the fault suite).
func windowNeverOpens(schedule, zone string) bool {
	s, err := parseWindowSchedule(schedule, zone)
	return err == nil && s.next(time.Now()).IsZero()
}

// bundles checks bundle paths: clean, relative, inside the repository, unique,
// and named (by their last element) like models.
func (v *validator) bundles(paths []string) {
	seen := map[string]int{}
	for i, p := range paths {
		field := "bundles[" + strconv.Itoa(i) + "]"
		switch {
		case p == "" || path.IsAbs(p) || strings.Contains(p, `\`):
			v.fail(field, "%q is not a relative slash path; expected e.g. \"bundles/platform\"", p)
			continue
		case path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../"):
			v.fail(field, "%q must be a clean path inside the repository, e.g. %q", p, path.Clean(p))
			continue
		case p == ModelsDir || strings.HasPrefix(p, ModelsDir+"/"):
			v.fail(field, "%q is inside %s/; bundles live outside the model folders", p, ModelsDir)
			continue
		}
		v.unitName(field, path.Base(p))
		if j, dup := seen[path.Base(p)]; dup {
			v.fail(field, "%q has the same name %q as bundles[%d]; bundle folder names must be unique", p, path.Base(p), j)
		}
		seen[path.Base(p)] = i
	}
}
