package render

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/robfig/cron/v3"
	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// maxNameLength leaves room for suffixes such as -train-<10 hex> within 63 characters.
const maxNameLength = 40

var digestRef = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// validator collects every problem of one model with its line.
type validator struct {
	file string
	root *yaml.Node
	errs Errors
	warn []string
}

func (v *validator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{File: v.file, Line: lineOf(v.root, field), Field: field, Msg: fmt.Sprintf(format, args...)})
}

// validate checks a decoded model against the rules of PRODUCT.md §1.
func validate(file, folder string, root *yaml.Node, m *Model, opts Options) (Errors, []string) {
	v := &validator{file: file, root: root}
	v.header(m)
	v.metadata(m, folder)
	v.spec(&m.Spec, opts)
	sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
	return v.errs, v.warn
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
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		v.fail("metadata.name", "%q is not a valid name: %s", name, strings.Join(msgs, "; "))
	} else if len(name) > maxNameLength {
		v.fail("metadata.name", "%q is %d characters; at most %d are allowed", name, len(name), maxNameLength)
	}
	if ns := m.Metadata.Namespace; ns != "" {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			v.fail("metadata.namespace", "%q is not a valid namespace: %s", ns, strings.Join(msgs, "; "))
		}
	}
	for _, k := range sortedKeys(m.Metadata.Labels) {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			v.fail("metadata.labels."+k, "%q is not a valid label key: %s", k, strings.Join(msgs, "; "))
		}
		if msgs := validation.IsValidLabelValue(m.Metadata.Labels[k]); len(msgs) > 0 {
			v.fail("metadata.labels."+k, "%q is not a valid label value: %s", m.Metadata.Labels[k], strings.Join(msgs, "; "))
		}
	}
}

func (v *validator) spec(s *Spec, opts Options) {
	switch {
	case s.Image == "":
		v.fail("spec.image", "is required; expected an image reference such as registry.example.com/model@sha256:<64 hex>")
	case !digestRef.MatchString(s.Image) && opts.RequireDigest:
		v.fail("spec.image", "%q has no digest; requireDigest is on, expected <image>@sha256:<64 hex>", s.Image)
	case !digestRef.MatchString(s.Image):
		v.warn = append(v.warn, fmt.Sprintf("%s: spec.image: %q is not pinned by digest", v.file, s.Image))
	}
	if s.Drift != "" && s.Drift != DriftRevert && s.Drift != DriftReport {
		v.fail("spec.drift", "%q is not a drift mode; expected %q or %q", s.Drift, DriftRevert, DriftReport)
	}
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

func (v *validator) training(t *Training) {
	v.env("spec.training.env", t.Env)
	v.resources("spec.training.resources", t.Resources)
	if t.Schedule != "" {
		if _, err := cron.ParseStandard(t.Schedule); err != nil || len(strings.Fields(t.Schedule)) != 5 {
			v.fail("spec.training.schedule", "%q is not a valid 5-field cron expression (%s)", t.Schedule, cronReason(err))
		}
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

func cronReason(err error) string {
	if err == nil {
		return "expected minute hour day-of-month month day-of-week"
	}
	return err.Error()
}

func (v *validator) serving(s *Serving) {
	v.env("spec.serving.env", s.Env)
	v.resources("spec.serving.resources", s.Resources)
	if s.Port < 0 || s.Port > 65535 {
		v.fail("spec.serving.port", "%d is out of range; expected 1-65535", s.Port)
	}
	if s.Replicas != nil && *s.Replicas < 0 {
		v.fail("spec.serving.replicas", "%d is negative; expected 0 or more", *s.Replicas)
	}
	if s.ReadinessPath != "" && !strings.HasPrefix(s.ReadinessPath, "/") {
		v.fail("spec.serving.readinessPath", "%q must start with /", s.ReadinessPath)
	}
	if a := s.Autoscaling; a != nil {
		v.autoscaling(a)
	}
}

func (v *validator) autoscaling(a *Autoscaling) {
	const f = "spec.serving.autoscaling"
	if a.MaxReplicas < 1 {
		v.fail(f+".maxReplicas", "%d must be at least 1", a.MaxReplicas)
	}
	if a.MinReplicas != nil && (*a.MinReplicas < 1 || *a.MinReplicas > a.MaxReplicas) {
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
	for key, q := range map[string]string{"cpu": r.CPU, "memory": r.Memory} {
		if q == "" {
			continue
		}
		if _, err := resource.ParseQuantity(q); err != nil {
			v.fail(field+"."+key, "%q is not a Kubernetes quantity; expected e.g. \"500m\", \"2\" or \"8Gi\"", q)
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
