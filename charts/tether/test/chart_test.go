package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const (
	// chartDir is the chart under test.
	chartDir = ".."
	// releaseName and releaseNamespace are what every render and install uses.
	releaseName      = "tether"
	releaseNamespace = "tether-system"
	// serviceMonitorAPI is the API the chart's ServiceMonitor needs.
	serviceMonitorAPI = "monitoring.coreos.com/v1/ServiceMonitor"
)

// quietHelm is a helm configuration whose log goes nowhere.
func quietHelm() *action.Configuration {
	return action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(io.Discard, nil)))
}

// rendered is the result of rendering the chart.
type rendered struct {
	Manifest, Notes string
}

// render renders the chart as `helm template` does (no cluster), with the
// extra API versions apis in .Capabilities.
func render(t testing.TB, values map[string]any, apis ...string) (rendered, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	install := action.NewInstall(quietHelm())
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = releaseName
	install.Namespace = releaseNamespace
	install.Replace = true
	install.APIVersions = common.VersionSet(apis)
	rel, err := install.RunWithContext(context.Background(), ch, values)
	if err != nil {
		return rendered{}, err
	}
	r, ok := rel.(*release.Release)
	if !ok {
		t.Fatalf("release of type %T", rel)
	}
	return rendered{Manifest: r.Manifest, Notes: r.Info.Notes}, nil
}

// mustRender is render for values the chart must accept.
func mustRender(t testing.TB, values map[string]any, apis ...string) rendered {
	t.Helper()
	r, err := render(t, values, apis...)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return r
}

// readValues reads a values file from testdata.
func readValues(t testing.TB, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return values
}

// objects decodes a manifest stream.
func objects(t testing.TB, manifest string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decode manifest: %v", err)
		}
		if len(obj.Object) > 0 {
			out = append(out, obj)
		}
	}
}

// find returns the object of kind and name among objs.
func find(t testing.TB, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s in the render", kind, name)
	return nil
}

// kinds lists the kind/name of every object, in order.
func kinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		name := o.GetKind() + "/" + o.GetName()
		if ns := o.GetNamespace(); ns != "" {
			name = o.GetKind() + "/" + ns + "/" + o.GetName()
		}
		out = append(out, name)
	}
	return out
}

// container returns the tether container of a rendered Deployment.
func container(t testing.TB, deploy *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	for _, c := range cs {
		if m, ok := c.(map[string]any); ok && m["name"] == "tether" {
			return m
		}
	}
	t.Fatalf("Deployment %s has no container tether", deploy.GetName())
	return nil
}

// containerArgs returns the tether container's args.
func containerArgs(t testing.TB, deploy *unstructured.Unstructured) []string {
	t.Helper()
	raw, _ := container(t, deploy)["args"].([]any)
	out := make([]string, len(raw))
	for i, a := range raw {
		out[i] = fmt.Sprint(a)
	}
	return out
}

// golden is what a golden file holds: the manifest, then the notes.
func golden(r rendered) []byte {
	var b bytes.Buffer
	b.WriteString(strings.TrimSpace(r.Manifest))
	b.WriteString("\n---\n# NOTES.txt\n")
	for _, line := range strings.Split(strings.TrimSpace(r.Notes), "\n") {
		b.WriteString(strings.TrimRight("# "+line, " ") + "\n")
	}
	return b.Bytes()
}
