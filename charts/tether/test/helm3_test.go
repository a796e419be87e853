package test

import (
	"context"
	"io"
	"log"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	helm3 "helm.sh/helm/v3/pkg/action"
	loader3 "helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
)

// renderHelm3 renders the chart as Helm 3's `helm template` does.
func renderHelm3(t *testing.T, values map[string]any, apis ...string) (rendered, error) {
	t.Helper()
	ch, err := loader3.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	cfg := &helm3.Configuration{Log: log.New(io.Discard, "", 0).Printf}
	install := helm3.NewInstall(cfg)
	install.DryRun, install.ClientOnly, install.Replace = true, true, true
	install.ReleaseName, install.Namespace = releaseName, releaseNamespace
	install.APIVersions = chartutil.VersionSet(apis)
	rel, err := install.RunWithContext(context.Background(), ch, values)
	if err != nil {
		return rendered{}, err
	}
	return rendered{Manifest: rel.Manifest, Notes: rel.Info.Notes}, nil
}

// TestHelm3 checks that Helm 3 renders every golden value set to the same
// objects and notes as Helm 4 (only the blank lines between documents
// differ), and rejects a typo through the schema too.
func TestHelm3(t *testing.T) {
	tests := []struct {
		name string
		apis []string
	}{
		{name: "minimal"}, {name: "full", apis: []string{serviceMonitorAPI}}, {name: "ha"},
		{name: "namespaces"}, {name: "ssh"}, {name: "servicemonitor-absent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := readValues(t, filepath.Join("testdata", "render", tt.name+".values.yaml"))
			got, err := renderHelm3(t, values, tt.apis...)
			if err != nil {
				t.Fatalf("helm 3: %v", err)
			}
			want := mustRender(t, values, tt.apis...)
			if diff := cmp.Diff(objects(t, want.Manifest), objects(t, got.Manifest)); diff != "" {
				t.Errorf("Helm 3 renders other objects than Helm 4 (-helm 4 +helm 3):\n%s", diff)
			}
			if diff := cmp.Diff(want.Notes, got.Notes); diff != "" {
				t.Errorf("Helm 3 renders other notes than Helm 4 (-helm 4 +helm 3):\n%s", diff)
			}
		})
	}
	t.Run("typo", func(t *testing.T) {
		_, err := renderHelm3(t, map[string]any{"config": map[string]any{"repo": "x", "defaultNamepsace": "ml"}})
		if err == nil || !strings.Contains(err.Error(), "defaultNamepsace") {
			t.Errorf("helm 3 error %v; want one naming defaultNamepsace", err)
		}
	})
}
