package render_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/render"
)

var previewTarget = render.PreviewTarget{ID: "7", Ref: "refs/pull/7/head", Owner: "models-1a2b3c4d"}

// TestPreviewGolden renders golden repositories as a pull request's preview
// and compares with testdata/<case>.preview.golden.yaml. The tracked
// branch's settings allow one GPU and add a CPU quota; the bundles case's
// own tether.yaml (another defaultNamespace, bundles) is the pull
// request's, so it is ignored.
func TestPreviewGolden(t *testing.T) {
	tracked := render.Settings{Preview: render.Preview{MaxGPUs: 1, Quota: map[string]string{"requests.cpu": "8"}}}
	for _, name := range []string{"full", "overlay", "bundles"} {
		t.Run(name, func(t *testing.T) {
			res, err := render.RenderPreview(filepath.Join("testdata", name), tracked, goldenOptions, previewTarget)
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata", name+".preview.golden.yaml"), stream(t, res.Units))
		})
	}
}

// gpuModel is a model serving with gpus GPUs, autoscaled, that also trains.
func gpuModel(name string, gpus int) string {
	return fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: %s}
spec:
  image: registry.example.com/m@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  training: {command: [train]}
  serving:
    port: 8080
    autoscaling: {minReplicas: 3, maxReplicas: 9}
    resources: {gpu: %d}
`, name, gpus)
}

func TestPreviewOf(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, dir, "a-big", gpuModel("a-big", 2))
	writeModel(t, dir, "b-small", gpuModel("b-small", 1))
	writeModel(t, dir, "c-cpu", gpuModel("c-cpu", 0))
	writeModel(t, dir, "d-broken", "kind: Model\n")
	tests := []struct {
		name    string
		preview render.Preview
		want    map[string]string // unit → its kinds in the preview, or "invalid"
	}{
		{"no GPUs, no training", render.Preview{},
			map[string]string{"a-big": "invalid", "b-small": "invalid", "c-cpu": "Service Deployment", "d-broken": "invalid"}},
		{"GPUs granted in name order", render.Preview{MaxGPUs: 2},
			map[string]string{"a-big": "Service Deployment", "b-small": "invalid", "c-cpu": "Service Deployment", "d-broken": "invalid"}},
		{"training", render.Preview{MaxGPUs: 3, Training: true},
			map[string]string{"a-big": "Service Deployment Job", "b-small": "Service Deployment Job", "c-cpu": "Service Deployment Job", "d-broken": "invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rendered, err := render.Repository(dir, goldenOptions)
			if err != nil {
				t.Fatal(err)
			}
			before := stream(t, rendered.Units)
			res := render.PreviewOf(rendered.Units, tt.preview, previewTarget)
			if diff := cmp.Diff(string(before), string(stream(t, rendered.Units))); diff != "" {
				t.Fatalf("PreviewOf changed its input:\n%s", diff)
			}
			got := map[string]string{}
			for _, u := range res.Units[1:] {
				got[u.Name] = unitKinds(u)
				assertPreviewObjects(t, u.Objects)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("units (-want +got):\n%s", diff)
			}
			if !res.Settings.AllowMassPrune || res.Settings.Preview.MaxGPUs != tt.preview.MaxGPUs {
				t.Errorf("settings = %+v, want mass prunes allowed and the tracked preview settings", res.Settings)
			}
			ns := res.Units[0]
			if ns.Name != render.PreviewNamespacesUnit || unitKinds(ns) != "Namespace ResourceQuota" || ns.Objects[0].GetName() != "ml-pr-7" {
				t.Errorf("first unit %s: %s, want the namespace ml-pr-7 and its quota", ns.Name, unitKinds(ns))
			}
			if hard, _, _ := unstructured.NestedString(ns.Objects[1].Object, "spec", "hard", "requests.nvidia.com/gpu"); hard != fmt.Sprint(tt.preview.MaxGPUs) {
				t.Errorf("quota allows %s GPUs, want %d", hard, tt.preview.MaxGPUs)
			}
		})
	}
}

func unitKinds(u render.Unit) string {
	if u.Err != nil {
		return "invalid"
	}
	var kinds []string
	for _, o := range u.Objects {
		kinds = append(kinds, o.GetKind())
	}
	return strings.Join(kinds, " ")
}

// assertPreviewObjects checks what every preview object must be: in a
// preview namespace, labelled, and a Deployment at one replica.
func assertPreviewObjects(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		if !strings.HasSuffix(o.GetNamespace(), "-pr-7") || o.GetLabels()[render.LabelPreview] != "7" || o.GetLabels()[render.LabelPreviewOf] != previewTarget.Owner {
			t.Errorf("%s/%s: namespace %q, labels %v; want a preview namespace and the preview labels", o.GetKind(), o.GetName(), o.GetNamespace(), o.GetLabels())
		}
		if o.GetKind() == "Deployment" {
			if n, _, _ := unstructured.NestedInt64(o.Object, "spec", "replicas"); n != 1 {
				t.Errorf("Deployment/%s: %d replicas, want 1", o.GetName(), n)
			}
		}
	}
}

func TestPreviewClusterScopedLeftOut(t *testing.T) {
	crb := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": map[string]any{"name": "x"}}}
	units := []render.Unit{{Name: "m", Kind: render.KindModelUnit, Namespace: "ml", Objects: []*unstructured.Unstructured{crb}}}
	res := render.PreviewOf(units, render.Preview{}, previewTarget)
	if u := res.Units[1]; len(u.Objects) != 0 || len(u.Warnings) != 1 || !strings.Contains(u.Warnings[0], "ClusterRoleBinding/x is not namespaced") {
		t.Errorf("cluster-scoped object: objects %d, warnings %q; want it left out with a warning", len(u.Objects), u.Warnings)
	}
}

func TestPreviewNames(t *testing.T) {
	tests := []struct{ capture, id, namespace string }{
		{"7", "7", "ml-pr-7"},
		{"0", "0", "ml-pr-0"},
		{"007", "629f4cf9", "ml-pr-629f4cf9"},
		{"alice/try", "9fa0c33f", "ml-pr-9fa0c33f"},
		{"1234567890123456789", "22085aa9", "ml-pr-22085aa9"},
	}
	for _, tt := range tests {
		id := render.PreviewID(tt.capture)
		if id != tt.id || render.PreviewNamespace("ml", id) != tt.namespace {
			t.Errorf("capture %q: id %q, namespace %q; want %q, %q", tt.capture, id, render.PreviewNamespace("ml", id), tt.id, tt.namespace)
		}
	}
	long := strings.Repeat("n", 60) + "-x"
	if got := render.PreviewNamespace(long, "123"); len(got) > 63 || got != strings.Repeat("n", 56)+"-pr-123" {
		t.Errorf("long namespace: %q (%d characters), want it cut to 63", got, len(got))
	}
}

// TestReadmePreviewSettings keeps the README's tether.yaml example for
// previews valid and meaning what the README says.
func TestReadmePreviewSettings(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n# tether.yaml on the tracked branch\n(.*?)```").FindSubmatch(data)
	if m == nil {
		t.Fatal("README.md has no ```yaml block starting with # tether.yaml on the tracked branch")
	}
	dir := t.TempDir()
	writeSettings(t, dir, string(m[1]))
	s, err := render.LoadSettings(dir)
	if err != nil {
		t.Fatalf("README's tether.yaml: %v", err)
	}
	want := render.Preview{MaxGPUs: 1, Quota: map[string]string{"requests.cpu": "4", "requests.memory": "16Gi", "pods": "20"}}
	if diff := cmp.Diff(want, s.Preview); diff != "" {
		t.Errorf("README's preview settings (-want +got):\n%s", diff)
	}
}
