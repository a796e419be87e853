package test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// kind is one kind the test repository renders, with its REST resource.
type kind struct {
	gvr  schema.GroupVersionResource
	name string
}

var (
	jobs        = kind{schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}, "Job"}
	cronJobs    = kind{schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}, "CronJob"}
	deployments = kind{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "Deployment"}
	services    = kind{schema.GroupVersionResource{Version: "v1", Resource: "services"}, "Service"}
	hpas        = kind{schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}, "HorizontalPodAutoscaler"}
	quotas      = kind{schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}, "ResourceQuota"}
	limitRanges = kind{schema.GroupVersionResource{Version: "v1", Resource: "limitranges"}, "LimitRange"}
	configMaps  = kind{schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "ConfigMap"}

	// managedKinds are the kinds revision A applies, in modelNamespace.
	managedKinds = []kind{jobs, cronJobs, deployments, services, hpas, quotas, limitRanges}
)

// ref names one object in modelNamespace; a Job's name is found by its model.
type ref struct {
	kind  kind
	name  string
	model string // for Jobs: the tether.dev/model label
}

func (r ref) String() string {
	return r.kind.name + "/" + modelNamespace + "/" + cmpOr(r.name, r.model+"-train-*")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var (
	// revisionA is what the test repository renders at the start of a run:
	// every kind, so that each permission is used.
	revisionA = []ref{
		{kind: jobs, model: "fraud-detector"}, {kind: cronJobs, name: "ranker-train"},
		{kind: deployments, name: "fraud-detector"}, {kind: deployments, name: "churn-scorer"}, {kind: deployments, name: "ranker"},
		{kind: services, name: "fraud-detector"}, {kind: services, name: "churn-scorer"}, {kind: services, name: "ranker"},
		{kind: hpas, name: "ranker"}, {kind: quotas, name: "gpu"}, {kind: limitRanges, name: "defaults"},
	}
	// deletedDrift are deleted out of band: one object of each kind.
	deletedDrift = []ref{
		{kind: jobs, model: "fraud-detector"}, {kind: cronJobs, name: "ranker-train"}, {kind: deployments, name: "fraud-detector"},
		{kind: services, name: "churn-scorer"}, {kind: hpas, name: "ranker"}, {kind: quotas, name: "gpu"}, {kind: limitRanges, name: "defaults"},
	}
	// prunedByB leave Git in revision B: one object of each kind at least.
	prunedByB = []ref{
		{kind: jobs, model: "fraud-detector"}, {kind: cronJobs, name: "ranker-train"}, {kind: deployments, name: "ranker"},
		{kind: services, name: "ranker"}, {kind: hpas, name: "ranker"}, {kind: quotas, name: "gpu"}, {kind: limitRanges, name: "defaults"},
	}
)

// resetRepo commits revision A again: every file of examples/models and
// testdata/repo as it is there.
func (e *env) resetRepo(t *testing.T) {
	t.Helper()
	files := map[string]string{}
	for _, src := range []string{filepath.Join(repoRoot, "examples", "models"), filepath.Join("testdata", "repo")} {
		err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			rel, _ := filepath.Rel(src, p)
			files[filepath.ToSlash(rel)] = string(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.repo.Commit(files)
}

// commitRevisionB removes fraud-detector and ranker (a model's training
// Jobs are deleted only with the model) and the bundle.
func (e *env) commitRevisionB(t *testing.T) {
	t.Helper()
	e.repo.Commit(map[string]string{
		"models/fraud-detector/model.yaml": "",
		"models/ranker/model.yaml":         "",
		"tether.yaml":                      "",
	})
}

// scenario is what tether must do with the chart's permissions: apply
// revision A (create), recreate an object of each kind deleted out of band
// (get, create), revert a field changed on an object of each kind (patch),
// and prune what revision B removes (delete); watching throughout (list,
// watch). It returns the first step that did not happen before ctx ended.
func (e *env) scenario(ctx context.Context, t *testing.T) error {
	if err := e.waitAll(ctx, "apply revision A", revisionA, present); err != nil {
		return err
	}
	uids := map[string]types.UID{}
	for _, r := range deletedDrift {
		uid, err := e.deleteObject(ctx, r)
		if err != nil {
			return fmt.Errorf("delete %s out of band: %w", r, err)
		}
		uids[r.String()] = uid
	}
	recreated := func(r ref, uid types.UID) bool { return uid != "" && uid != uids[r.String()] }
	if err := e.waitAll(ctx, "recreate objects deleted out of band", deletedDrift, recreated); err != nil {
		return err
	}
	if err := e.driftAnnotations(ctx); err != nil {
		return err
	}
	if err := e.driftReplicas(ctx); err != nil {
		return err
	}
	e.commitRevisionB(t)
	gone := func(_ ref, uid types.UID) bool { return uid == "" }
	if err := e.waitAll(ctx, "prune what revision B removed", prunedByB, gone); err != nil {
		return err
	}
	return e.recordGone(ctx, "-model-ranker") // the record of a model that left Git goes too
}

// recordGone waits until no inventory record's name ends with suffix.
func (e *env) recordGone(ctx context.Context, suffix string) error {
	for {
		list, err := e.cs.CoreV1().ConfigMaps(releaseNamespace).List(ctx, metav1.ListOptions{LabelSelector: "tether.dev/inventory"})
		if err == nil && !slices.ContainsFunc(list.Items, func(cm corev1.ConfigMap) bool { return strings.HasSuffix(cm.Name, suffix) }) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("delete the record of ranker, which left Git: %w", context.Cause(ctx))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func present(_ ref, uid types.UID) bool { return uid != "" }

// waitAll polls until cond holds for every ref (given its live UID, "" when
// absent) or ctx ends.
func (e *env) waitAll(ctx context.Context, step string, refs []ref, cond func(ref, types.UID) bool) error {
	for {
		var pending []string
		for _, r := range refs {
			uid, err := e.uid(ctx, r)
			if err != nil || !cond(r, uid) {
				pending = append(pending, r.String())
			}
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: still waiting for %s: %w", step, strings.Join(pending, ", "), context.Cause(ctx))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// uid is the live object's UID, or "" when it does not exist.
func (e *env) uid(ctx context.Context, r ref) (types.UID, error) {
	ri := e.dyn.Resource(r.kind.gvr).Namespace(modelNamespace)
	if r.name == "" {
		list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: "tether.dev/model=" + r.model})
		if err != nil || len(list.Items) == 0 {
			return "", err
		}
		return list.Items[0].GetUID(), nil
	}
	obj, err := ri.Get(ctx, r.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return obj.GetUID(), nil
}

// name is r's name; a Job's is looked up by its model.
func (e *env) name(ctx context.Context, r ref) (string, error) {
	if r.name != "" {
		return r.name, nil
	}
	list, err := e.dyn.Resource(r.kind.gvr).Namespace(modelNamespace).List(ctx, metav1.ListOptions{LabelSelector: "tether.dev/model=" + r.model})
	if err != nil {
		return "", err
	}
	if len(list.Items) == 0 {
		return "", fmt.Errorf("no %s of model %s", r.kind.name, r.model)
	}
	return list.Items[0].GetName(), nil
}

// deleteObject deletes r (background propagation) and returns its UID.
func (e *env) deleteObject(ctx context.Context, r ref) (types.UID, error) {
	uid, err := e.uid(ctx, r)
	if err != nil || uid == "" {
		return "", errors.Join(err, fmt.Errorf("%s: not found", r))
	}
	name, err := e.name(ctx, r)
	if err != nil {
		return "", err
	}
	policy := metav1.DeletePropagationBackground
	return uid, e.dyn.Resource(r.kind.gvr).Namespace(modelNamespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy})
}

// driftAnnotations changes an annotation tether set on one object of each
// kind, out of band, and waits until tether wrote it back.
func (e *env) driftAnnotations(ctx context.Context) error {
	const key = "tether.dev/source"
	body := []byte(`{"metadata":{"annotations":{"` + key + `":"changed-out-of-band"}}}`)
	for _, r := range deletedDrift {
		name, err := e.name(ctx, r)
		if err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		ri := e.dyn.Resource(r.kind.gvr).Namespace(modelNamespace)
		if _, err := ri.Patch(ctx, name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: "intruder"}); err != nil {
			return fmt.Errorf("change %s's %s out of band: %w", r, key, err)
		}
	}
	for _, r := range deletedDrift {
		for {
			name, err := e.name(ctx, r)
			if err == nil {
				obj, gerr := e.dyn.Resource(r.kind.gvr).Namespace(modelNamespace).Get(ctx, name, metav1.GetOptions{})
				if gerr == nil && obj.GetAnnotations()[key] != "changed-out-of-band" {
					break
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("revert %s's %s: %w", r, key, context.Cause(ctx))
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// driftReplicas scales churn-scorer out of band and waits for the revert.
func (e *env) driftReplicas(ctx context.Context) error {
	body := []byte(`{"spec":{"replicas":5}}`)
	_, err := e.dyn.Resource(deployments.gvr).Namespace(modelNamespace).Patch(ctx, "churn-scorer",
		types.MergePatchType, body, metav1.PatchOptions{FieldManager: "intruder"})
	if err != nil {
		return fmt.Errorf("scale churn-scorer out of band: %w", err)
	}
	for {
		d, err := e.cs.AppsV1().Deployments(modelNamespace).Get(ctx, "churn-scorer", metav1.GetOptions{})
		if err == nil && d.Spec.Replicas != nil && *d.Spec.Replicas == 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("revert churn-scorer's replicas to 1: %w", context.Cause(ctx))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// clean deletes everything tether applied and its records, and waits until
// they are gone, so the next run starts from nothing.
func (e *env) clean(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	leases := e.cs.CoordinationV1().Leases(releaseNamespace)
	if list, err := leases.List(ctx, metav1.ListOptions{}); err == nil {
		for _, l := range list.Items {
			if strings.HasPrefix(l.Name, "tether-") { // so each case takes the lead as a first install does
				_ = leases.Delete(ctx, l.Name, metav1.DeleteOptions{})
			}
		}
	}
	secrets := e.cs.CoreV1().Secrets(releaseNamespace)
	if err := secrets.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "tether.dev/instance"}); err != nil {
		t.Fatalf("clean the hash key: %v", err) // so that each case starts as a first install
	}
	targets := map[kind]string{configMaps: releaseNamespace}
	for _, k := range managedKinds {
		targets[k] = modelNamespace
	}
	policy := metav1.DeletePropagationBackground
	for _, k := range slices.SortedFunc(maps.Keys(targets), func(a, b kind) int { return strings.Compare(a.name, b.name) }) {
		ri := e.dyn.Resource(k.gvr).Namespace(targets[k])
		sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=tether"}
		if k == configMaps {
			sel.LabelSelector = "tether.dev/inventory"
		}
		if err := ri.DeleteCollection(ctx, metav1.DeleteOptions{PropagationPolicy: &policy}, sel); err != nil {
			t.Fatalf("clean %s: %v", k.name, err)
		}
		for {
			list, err := ri.List(ctx, sel)
			if err != nil {
				t.Fatalf("clean %s: %v", k.name, err)
			}
			if len(list.Items) == 0 {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("clean %s: %d left after a minute", k.name, len(list.Items))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
