package render

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// maxNameLength leaves room for suffixes such as -train-<10 hex> within 63 characters.
const maxNameLength = 40

var digestRef = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// hugeExponent matches quantities like 1e-2147483648: resource.ParseQuantity
// wraps such exponents around int32 and then loops practically forever (found
// by FuzzDecodeModel), so they are rejected before parsing.
var hugeExponent = regexp.MustCompile(`[eE][+-]?0*[0-9]{4,}$`)

// imageRef is the grammar of an image reference (distribution/reference),
// without IPv6 hosts: [domain[:port]/]path[:tag][@algorithm:hex].
var imageRef = regexp.MustCompile(`^` +
	`(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?` +
	`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
	`(?::[\w][\w.-]{0,127})?` +
	`(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`)

// validator collects every problem of one document with its line.
type validator struct {
	file string
	root *yaml.Node
	errs Errors
	warn []string
}

func (v *validator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{File: v.file, Line: lineOf(v.root, field), Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) warnf(field, format string, args ...any) {
	e := FieldError{File: v.file, Line: lineOf(v.root, field), Field: field, Msg: fmt.Sprintf(format, args...)}
	v.warn = append(v.warn, e.Error())
}

// sorted returns the errors in line order.
func (v *validator) sorted() Errors {
	sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
	return v.errs
}

// validate checks a decoded model against the rules of PRODUCT.md §1.
func validate(file, folder string, root *yaml.Node, m *Model, opts Options) (Errors, []string) {
	v := &validator{file: file, root: root}
	v.header(m)
	v.metadata(m, folder)
	v.spec(&m.Spec, opts)
	return v.sorted(), v.warn
}

func (v *validator) header(m *Model) {
	if m.APIVersion != APIVersion {
		v.fail("apiVersion", "%q is not supported; expected %q", m.APIVersion, APIVersion)
	}
	if m.Kind != KindModel {
		v.fail("kind", "%q is not supported; expected %q", m.Kind, KindModel)
	}
}

func (v *validator) metadata(m *Model, folder string) {
	name := m.Metadata.Name
	switch {
	case name == "":
		name = folder
	case name != folder:
		v.fail("metadata.name", "%q must equal its folder name %q", name, folder)
	}
	v.unitName("metadata.name", name)
	if ns := m.Metadata.Namespace; ns != "" {
		v.namespace("metadata.namespace", ns)
	}
	for _, k := range sortedKeys(m.Metadata.Labels) {
		field := "metadata.labels." + k
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			v.fail(field, "%q is not a valid label key: %s", k, strings.Join(msgs, "; "))
		} else if k == LabelShard {
			v.shardName(field, m.Metadata.Labels[k])
			continue
		} else if tetherLabel(k) {
			v.fail(field, "%q is set by tether on every object; remove it", k)
		}
		if msgs := validation.IsValidLabelValue(m.Metadata.Labels[k]); len(msgs) > 0 {
			v.fail(field, "%q is not a valid label value: %s", m.Metadata.Labels[k], strings.Join(msgs, "; "))
		}
	}
}

// shardName checks a tether.dev/shard label: the name of the daemon's --shard,
// a DNS-1123 label of at most MaxShardLength characters.
func (v *validator) shardName(field, name string) {
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		v.fail(field, "%q is not a valid shard name: %s", name, strings.Join(msgs, "; "))
	} else if len(name) > MaxShardLength {
		v.fail(field, "%q is %d characters; a shard name has at most %d", name, len(name), MaxShardLength)
	}
}

// unitName checks a model or bundle name: a DNS-1123 label of at most 40 characters.
func (v *validator) unitName(field, name string) {
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		v.fail(field, "%q is not a valid name: %s", name, strings.Join(msgs, "; "))
	} else if len(name) > maxNameLength {
		v.fail(field, "%q is %d characters; at most %d are allowed", name, len(name), maxNameLength)
	}
}

func (v *validator) namespace(field, ns string) {
	if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
		v.fail(field, "%q is not a valid namespace: %s", ns, strings.Join(msgs, "; "))
	}
}

func tetherLabel(k string) bool {
	switch k {
	case LabelName, LabelComponent, LabelManagedBy:
		return true
	}
	return strings.HasPrefix(k, "tether.dev/")
}

func (v *validator) spec(s *Spec, opts Options) {
	v.image(s.Image, opts.RequireDigest)
	v.drift("spec.drift", s.Drift)
	if s.Training == nil && s.Serving == nil {
		v.fail("spec", "has neither training nor serving; expected at least one of them")
	}
	if s.Training != nil {
		v.training(s.Training)
	}
	if s.Serving != nil {
		v.serving(s.Serving)
	}
}

func (v *validator) image(image string, requireDigest bool) {
	const f = "spec.image"
	switch {
	case image == "":
		v.fail(f, "is required; expected an image reference such as registry.example.com/model@sha256:<64 hex>")
	case len(image) > 255 || !imageRef.MatchString(image):
		v.fail(f, "%q is not a valid image reference; expected [registry/]name[:tag][@sha256:<64 hex>]", image)
	case !digestRef.MatchString(image) && requireDigest:
		v.fail(f, "%q has no digest; requireDigest is on, expected <image>@sha256:<64 hex>", image)
	case !digestRef.MatchString(image):
		v.warnf(f, "%q is not pinned by digest; the tag may move", image)
	}
}

func (v *validator) drift(field, mode string) {
	if mode != "" && mode != DriftRevert && mode != DriftReport {
		v.fail(field, "%q is not a drift mode; expected %q or %q", mode, DriftRevert, DriftReport)
	}
}

func (v *validator) training(t *Training) {
	v.env("spec.training.env", t.Env)
	v.resources("spec.training.resources", t.Resources)
	if t.Schedule != "" {
		v.cron("spec.training.schedule", t.Schedule)
	}
	if t.BackoffLimit != nil && *t.BackoffLimit < 0 {
		v.fail("spec.training.backoffLimit", "%d is negative; expected 0 or more", *t.BackoffLimit)
	}
	if t.ActiveDeadlineSeconds != nil && *t.ActiveDeadlineSeconds <= 0 {
		v.fail("spec.training.activeDeadlineSeconds", "%d must be positive", *t.ActiveDeadlineSeconds)
	}
	if t.KeepRuns != nil && *t.KeepRuns < 1 {
		v.fail("spec.training.keepRuns", "%d must be at least 1", *t.KeepRuns)
	}
}

// cron checks a standard 5-field cron expression (minute hour day-of-month
// month day-of-week) with robfig/cron, which also accepts descriptors such as
// @daily that Kubernetes CronJobs and tether do not.
func (v *validator) cron(field, expr string) {
	_, err := parseCron(expr)
	if err == nil && len(strings.Fields(expr)) == 5 {
		return
	}
	reason := "expected minute hour day-of-month month day-of-week"
	if err != nil {
		reason = err.Error()
	}
	v.fail(field, "%q is not a valid 5-field cron expression (%s)", expr, reason)
}

func (v *validator) serving(s *Serving) {
	v.env("spec.serving.env", s.Env)
	v.resources("spec.serving.resources", s.Resources)
	if s.Port != nil && (*s.Port < 1 || *s.Port > 65535) {
		v.fail("spec.serving.port", "%d is out of range; expected 1-65535", *s.Port)
	}
	if s.Replicas != nil && *s.Replicas < 0 {
		v.fail("spec.serving.replicas", "%d is negative; expected 0 or more", *s.Replicas)
	}
	if s.ReadinessPath != "" && !strings.HasPrefix(s.ReadinessPath, "/") {
		v.fail("spec.serving.readinessPath", "%q must start with /", s.ReadinessPath)
	}
	if a := s.Autoscaling; a != nil {
		v.autoscaling(a)
		if s.Replicas != nil {
			v.warnf("spec.serving.replicas", "is ignored because spec.serving.autoscaling is set")
		}
	}
}

func (v *validator) autoscaling(a *Autoscaling) {
	const f = "spec.serving.autoscaling"
	if a.MaxReplicas < 1 {
		v.fail(f+".maxReplicas", "%d must be at least 1", a.MaxReplicas)
	}
	if a.MinReplicas != nil && (*a.MinReplicas < 1 || *a.MinReplicas > max(a.MaxReplicas, 1)) {
		v.fail(f+".minReplicas", "%d must be between 1 and maxReplicas (%d)", *a.MinReplicas, a.MaxReplicas)
	}
	if t := a.TargetCPUUtilizationPercentage; t != nil && (*t < 1 || *t > 100) {
		v.fail(f+".targetCPUUtilizationPercentage", "%d is out of range; expected 1-100", *t)
	}
}

func (v *validator) resources(field string, r *Resources) {
	if r == nil {
		return
	}
	for _, q := range []struct{ key, value string }{{"cpu", r.CPU}, {"memory", r.Memory}} {
		if q.value == "" {
			continue
		}
		if hugeExponent.MatchString(q.value) {
			v.fail(field+"."+q.key, "%q is out of range; expected e.g. \"500m\", \"2\" or \"8Gi\"", q.value)
			continue
		}
		parsed, err := resource.ParseQuantity(q.value)
		switch {
		case err != nil:
			v.fail(field+"."+q.key, "%q is not a Kubernetes quantity; expected e.g. \"500m\", \"2\" or \"8Gi\"", q.value)
		case parsed.Sign() < 0:
			v.fail(field+"."+q.key, "%q is negative; expected a positive quantity", q.value)
		}
	}
	if r.GPU < 0 {
		v.fail(field+".gpu", "%d is negative; expected 0 or more", r.GPU)
	}
}

func (v *validator) env(field string, env map[string]string) {
	for _, k := range sortedKeys(env) {
		if msgs := validation.IsEnvVarName(k); len(msgs) > 0 {
			v.fail(field+"."+k, "%q is not a valid environment variable name", k)
		} else if from, ok := reservedEnv[k]; ok {
			v.fail(field+"."+k, "%q is reserved: tether sets it from %s", k, from)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
