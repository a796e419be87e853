package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Labels and annotations of preview environments (PRODUCT.md §4).
const (
	// LabelPreview carries a preview's id on every object it deploys.
	LabelPreview = "tether.dev/preview"
	// LabelPreviewOf names the instance of the daemon tracking the branch
	// the previews are of, so that each daemon finds its own after a restart.
	LabelPreviewOf = "tether.dev/preview-of"
	// AnnotationPreviewRef on a preview's namespaces is the ref it deploys.
	AnnotationPreviewRef = "tether.dev/preview-ref"
	// PreviewNamespacesUnit is the unit holding a preview's namespaces and
	// quotas. The dot keeps it apart from every model and bundle name.
	PreviewNamespacesUnit = "preview.namespaces"
	// PreviewQuotaName is the ResourceQuota in each preview namespace.
	PreviewQuotaName = "tether-preview"
)

// maxNumericID is the longest capture kept as a preview id as it is.
const maxNumericID = 18

// PreviewTarget names one preview environment.
type PreviewTarget struct {
	ID    string // see PreviewID
	Ref   string // the ref it deploys, e.g. refs/pull/7/head
	Owner string // instance of the daemon tracking the branch (LabelPreviewOf)
}

// PreviewID is the id of the preview of a ref whose pattern's * stood for
// capture: the capture itself when it is a number (a pull request's), else
// the first 8 hex digits of its SHA-256, so that any branch name makes a
// valid label value and namespace suffix.
func PreviewID(capture string) string {
	numeric := capture != "" && len(capture) <= maxNumericID && (capture == "0" || capture[0] != '0')
	for _, r := range capture {
		numeric = numeric && r >= '0' && r <= '9'
	}
	if numeric {
		return capture
	}
	sum := sha256.Sum256([]byte(capture))
	return hex.EncodeToString(sum[:4])
}

// PreviewNamespace is the namespace that objects of namespace ns go to in
// preview id: <ns>-pr-<id>, with ns cut so that the name keeps within 63
// characters.
func PreviewNamespace(ns, id string) string {
	suffix := "-pr-" + id
	if len(ns)+len(suffix) > 63 {
		ns = strings.TrimRight(ns[:63-len(suffix)], "-")
	}
	return ns + suffix
}

// RenderPreview renders the models of the revision in dir (a pull request's)
// as preview t. Settings come from tracked, the tracked branch's tether.yaml
// (merged with the flags as Repository merges them): the revision's own
// tether.yaml is never read, so a pull request cannot lift its own limits,
// and bundles are never deployed.
func RenderPreview(dir string, tracked Settings, flags Options, t PreviewTarget) (*Result, error) {
	units, err := renderUnits(dir, nil, tracked.Resolve(flags))
	if err != nil {
		return nil, err
	}
	return PreviewOf(units, tracked.Preview, t), nil
}

// PreviewOf turns rendered units into preview t (pure; the units are not
// changed): models only, each object in its namespace's preview namespace
// and labelled with the preview, Deployments and StatefulSets at one
// replica, no HorizontalPodAutoscalers, no Jobs or CronJobs unless
// p.Training, nothing cluster-scoped. Models are granted GPUs in name order
// while p.MaxGPUs lasts; a model needing more is invalid in the preview. The
// first unit holds the preview's namespaces and their ResourceQuotas. A
// preview is disposable, so its revisions may prune anything
// (AllowMassPrune).
func PreviewOf(units []Unit, p Preview, t PreviewTarget) *Result {
	res := &Result{Settings: Settings{AllowMassPrune: true, Preview: p}}
	namespaces := map[string]bool{}
	gpus := 0
	for _, u := range units {
		if u.Kind == KindBundleUnit {
			continue
		}
		pu := previewUnit(u, p, t)
		if need := podGPUs(pu.Objects); need > 0 && gpus+need > p.MaxGPUs {
			pu.Objects, pu.Hash = nil, ""
			pu.Err = Errors{{File: path.Join(u.Source, ModelFile), Field: "spec", Msg: fmt.Sprintf(
				"the preview needs %d GPUs, and the previews' limit (preview.maxGPUs in the tracked branch's %s) leaves %d", need, SettingsFile, p.MaxGPUs-gpus)}}
		} else {
			gpus += need
		}
		namespaces[PreviewNamespace(u.Namespace, t.ID)] = true
		for _, o := range pu.Objects {
			namespaces[o.GetNamespace()] = true
		}
		res.Units = append(res.Units, pu)
	}
	res.Units = append([]Unit{namespacesUnit(namespaces, p, t)}, res.Units...)
	return res
}

// previewUnit is u's preview: its objects transformed, cluster-scoped ones
// left out with a warning. An invalid unit stays invalid.
func previewUnit(u Unit, p Preview, t PreviewTarget) Unit {
	out := u
	out.Namespace = PreviewNamespace(u.Namespace, t.ID)
	out.Warnings = append([]string(nil), u.Warnings...)
	if u.Err != nil {
		out.Objects = nil
		return out
	}
	out.Objects = nil
	for _, o := range u.Objects {
		if o.GetNamespace() == "" {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s/%s is not namespaced: previews leave it out", o.GetKind(), o.GetName()))
			continue
		}
		if keep(o, p) {
			out.Objects = append(out.Objects, previewObject(o, p, t))
		}
	}
	out.Hash = ObjectsHash(out.Objects)
	return out
}

// keep reports whether a preview deploys objects like o.
func keep(o *unstructured.Unstructured, p Preview) bool {
	gk := o.GroupVersionKind().GroupKind()
	switch {
	case gk.Group == "autoscaling" && gk.Kind == "HorizontalPodAutoscaler":
		return false
	case gk.Group == "batch" && (gk.Kind == "Job" || gk.Kind == "CronJob"):
		return p.Training
	}
	return true
}

// previewObject is a copy of o moved into its preview namespace, labelled,
// at one replica, and without its training run when training is off.
func previewObject(o *unstructured.Unstructured, p Preview, t PreviewTarget) *unstructured.Unstructured {
	c := o.DeepCopy()
	c.SetNamespace(PreviewNamespace(o.GetNamespace(), t.ID))
	c.SetLabels(withPreviewLabels(c.GetLabels(), t))
	if gk := c.GroupVersionKind().GroupKind(); gk.Group == "apps" && (gk.Kind == "Deployment" || gk.Kind == "StatefulSet") {
		_ = unstructured.SetNestedField(c.Object, int64(1), "spec", "replicas")
	}
	if ann := c.GetAnnotations(); !p.Training && ann[AnnotationTrainingRun] != "" {
		delete(ann, AnnotationTrainingRun)
		c.SetAnnotations(ann)
	}
	return c
}

func withPreviewLabels(labels map[string]string, t PreviewTarget) map[string]string {
	out := maps.Clone(labels)
	if out == nil {
		out = map[string]string{}
	}
	out[LabelManagedBy] = ManagedByTether
	out[LabelPreview] = t.ID
	if t.Owner != "" {
		out[LabelPreviewOf] = t.Owner
	}
	return out
}

// namespacesUnit holds each preview namespace and its ResourceQuota: GPUs
// capped at p.MaxGPUs, plus p.Quota.
func namespacesUnit(namespaces map[string]bool, p Preview, t PreviewTarget) Unit {
	names := make([]string, 0, len(namespaces))
	for ns := range namespaces {
		names = append(names, ns)
	}
	sort.Strings(names)
	hard := map[string]any{"requests." + string(gpuResource): fmt.Sprint(p.MaxGPUs)}
	for k, v := range p.Quota {
		hard[k] = v
	}
	var objs []*unstructured.Unstructured
	for _, ns := range names {
		meta := map[string]any{"name": ns, "labels": toAny(withPreviewLabels(nil, t))}
		if t.Ref != "" {
			meta["annotations"] = map[string]any{AnnotationPreviewRef: t.Ref}
		}
		objs = append(objs, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": meta}})
		quota := map[string]any{"name": PreviewQuotaName, "namespace": ns, "labels": toAny(withPreviewLabels(nil, t))}
		objs = append(objs, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ResourceQuota", "metadata": quota, "spec": map[string]any{"hard": maps.Clone(hard)},
		}})
	}
	return Unit{Name: PreviewNamespacesUnit, Kind: KindBundleUnit, Source: SettingsFile, Objects: objs, Hash: ObjectsHash(objs)}
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
