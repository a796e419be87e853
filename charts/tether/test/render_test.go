package test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/render")

// TestGolden renders each value set in testdata/render and compares the
// manifest and notes with its golden file.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		apis []string // extra API versions the cluster serves
	}{
		{name: "minimal"},
		{name: "full", apis: []string{serviceMonitorAPI}},
		{name: "ha"},
		{name: "namespaces"},
		{name: "ssh"},
		{name: "servicemonitor-absent"},
		{name: "shards"},
		{name: "shards-hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := filepath.Join("testdata", "render", tt.name)
			got := golden(mustRender(t, readValues(t, base+".values.yaml"), tt.apis...))
			if *update {
				if err := os.WriteFile(base+".golden.yaml", got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(base + ".golden.yaml")
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s.golden.yaml differs (-want +got; -update rewrites it):\n%s", base, diff)
			}
		})
	}
}

// TestRejected checks that values the chart cannot honour fail the render
// with an error naming the value: typos and wildcards through the schema,
// the rest through the templates.
func TestRejected(t *testing.T) {
	repo := map[string]any{"repo": "https://git.example.com/ml/models.git"}
	tests := []struct {
		name   string
		values map[string]any
		want   []string // substrings of the error
	}{
		{"shards and a shard flag", map[string]any{"config": map[string]any{"repo": "r", "shard": "gpu"}, "shards": map[string]any{"names": []any{"cpu"}}},
			[]string{"shards and config.shard"}},
		{"shards by label and by hash", map[string]any{"config": repo, "shards": map[string]any{"names": []any{"cpu"}, "count": 2}},
			[]string{"shards.names and shards.count"}},
		{"shard name not a DNS label", map[string]any{"config": repo, "shards": map[string]any{"names": []any{"GPU"}}},
			[]string{"shards/names/0"}},
		{"typo at the top", map[string]any{"config": repo, "replicas": 2},
			[]string{"additional properties 'replicas' not allowed"}},
		{"typo in config", map[string]any{"config": map[string]any{"repo": "x", "defaultNamepsace": "ml"}},
			[]string{"/config", "additional properties 'defaultNamepsace' not allowed"}},
		{"typo in a secret", map[string]any{"config": repo, "git": map[string]any{"existingSecrets": "s"}},
			[]string{"/git", "existingSecrets"}},
		{"wildcard verb", map[string]any{"config": repo, "rbac": map[string]any{"extraRules": []any{
			map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps"}, "verbs": []any{"*"}}}}},
			[]string{"/rbac/extraRules/0/verbs/0"}},
		{"wildcard resource", map[string]any{"config": repo, "rbac": map[string]any{"extraRules": []any{
			map[string]any{"apiGroups": []any{""}, "resources": []any{"*"}, "verbs": []any{"get"}}}}},
			[]string{"/rbac/extraRules/0/resources/0"}},
		{"unknown scope", map[string]any{"config": repo, "rbac": map[string]any{"scope": "namespace"}},
			[]string{"/rbac/scope"}},
		{"unknown drift mode", map[string]any{"config": map[string]any{"repo": "x", "drift": "revret"}},
			[]string{"/config/drift"}},
		{"short digest", map[string]any{"config": repo, "image": map[string]any{"digest": "sha256:abc"}},
			[]string{"/image/digest"}},
		{"no repository", map[string]any{},
			[]string{"config.repo is required"}},
		{"namespaces without a list", map[string]any{"config": repo, "rbac": map[string]any{"scope": "namespaces"}},
			[]string{"rbac.scope namespaces needs rbac.namespaces"}},
		{"bad memory limit", map[string]any{"config": repo, "resources": map[string]any{"limits": map[string]any{"memory": "lots"}}},
			[]string{`resources.limits.memory "lots"`}},
		{"bad listen address", map[string]any{"config": map[string]any{"repo": "x", "listen": "localhost"}},
			[]string{`config.listen "localhost"`}},
		{"preview refs joined with a comma", map[string]any{"config": map[string]any{"repo": "x", "previewRefs": []any{"refs/pull/*/head,refs/x/*"}}},
			[]string{"/config/previewRefs/0"}},
		{"preview refs without a glob", map[string]any{"config": map[string]any{"repo": "x", "previewRefs": []any{"refs/pull/7/head"}}},
			[]string{"/config/previewRefs/0"}},
		{"previews under namespaced RBAC", map[string]any{
			"config": map[string]any{"repo": "x", "previewRefs": []any{"refs/pull/*/head"}},
			"rbac":   map[string]any{"scope": "namespaces", "namespaces": []any{"ml"}}},
			[]string{"config.previewRefs needs rbac.scope cluster"}},
		{"ingress without a webhook secret", map[string]any{"config": repo,
			"webhook": map[string]any{"ingress": map[string]any{"enabled": true}}},
			[]string{"webhook.ingress needs webhook.existingSecret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(t, tt.values)
			if err == nil {
				t.Fatal("rendered; want an error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// TestMemoryLimit checks that --memory-limit is 75% of the container's memory
// limit, and that an explicit config.memoryLimit wins.
func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		limit, explicit, want string
	}{
		{limit: "256Mi", want: "--memory-limit=192Mi"},
		{limit: "1Gi", want: "--memory-limit=768Mi"},
		{limit: "1.5Gi", want: "--memory-limit=1152Mi"},
		{limit: "500M", want: "--memory-limit=357Mi"},
		{limit: "268435456", want: "--memory-limit=192Mi"},
		{limit: "1Gi", explicit: "600Mi", want: "--memory-limit=600Mi"},
	}
	for _, tt := range tests {
		t.Run(tt.limit+"/"+tt.explicit, func(t *testing.T) {
			values := map[string]any{
				"config":    map[string]any{"repo": "x", "memoryLimit": tt.explicit},
				"resources": map[string]any{"limits": map[string]any{"memory": tt.limit}},
			}
			deploy := find(t, objects(t, mustRender(t, values).Manifest), "Deployment", releaseName)
			var got []string
			for _, a := range containerArgs(t, deploy) {
				if strings.HasPrefix(a, "--memory-limit=") {
					got = append(got, a)
				}
			}
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("memory-limit args (-want +got):\n%s", diff)
			}
		})
	}
}
