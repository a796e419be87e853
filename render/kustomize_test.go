package render_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tether-ml/tether/render"
)

// writeTree writes files (slash paths relative to dir) with their content.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		mkdir(t, filepath.Dir(p))
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const fnConfig = `apiVersion: example.com/v1
kind: Annotator
metadata:
  name: annotate
  annotations:
    config.kubernetes.io/function: |
      %s
`

func TestKustomizeRestrictions(t *testing.T) {
	outside := t.TempDir() // a folder outside every test repository
	writeTree(t, outside, map[string]string{"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n"})
	kust := func(body string) map[string]string {
		return map[string]string{"models/m/kustomization.yaml": body}
	}
	tests := []struct {
		name  string
		files map[string]string
		links map[string]string // link -> target
		want  string
	}{
		{"resource escaping with ../", merge(kust("resources: [../../secrets]\n"), map[string]string{"secrets/kustomization.yaml": "resources: []\n"}),
			nil, `models/m/kustomization.yaml:1: resources[0]: "../../secrets" leaves models/m; only components may live outside it`},
		{"patch escaping with ../", kust("patches:\n  - path: ../other/patch.yaml\n"),
			nil, `models/m/kustomization.yaml:2: patches[0].path: "../other/patch.yaml" leaves models/m`},
		{"generator file escaping", kust("configMapGenerator:\n  - name: c\n    files: [key=../../etc/passwd]\n"),
			nil, `configMapGenerator[0].files[0]: "../../etc/passwd" leaves models/m`},
		{"absolute path", kust("resources:\n  - /etc/passwd\n"),
			nil, `models/m/kustomization.yaml:2: resources[0]: absolute path "/etc/passwd" rejected`},
		{"remote base URL", kust("resources:\n  - https://github.com/acme/models//base?ref=v1.2.0\n"),
			nil, `models/m/kustomization.yaml:2: resources[0]: remote reference "https://github.com/acme/models//base?ref=v1.2.0" rejected: tether never fetches`},
		{"git ref without scheme", kust("resources: ['github.com/acme/models/base?ref=main']\n"),
			nil, `remote reference "github.com/acme/models/base?ref=main" rejected`},
		{"scp-style git URL", kust("components: [git@gitlab.example.com:acme/components.git]\n"),
			nil, `components[0]: remote reference "git@gitlab.example.com:acme/components.git" rejected`},
		{"go-getter prefix", kust("resources: ['git::https://example.com/acme/base']\n"),
			nil, `remote reference "git::https://example.com/acme/base" rejected`},
		{"remote patch file", kust("patches:\n  - path: https://example.com/patch.yaml\n"),
			nil, `patches[0].path: remote reference "https://example.com/patch.yaml" rejected`},
		{"missing host-like base", kust("resources: [gitlab.com/acme/base]\n"),
			nil, `resources[0]: "gitlab.com/acme/base" does not exist in the repository; if it is a remote base, tether never fetches those`},
		{"resource too large", merge(kust("resources: [big.yaml]\n"), map[string]string{"models/m/big.yaml": "#" + strings.Repeat("x", 8<<20)}),
			nil, `resources[0]: "big.yaml" is 8388609 bytes; kustomize may read files of at most 8388608 bytes`},
		{"missing resource", kust("resources: [nope.yaml]\n"),
			nil, `resources[0]: "nope.yaml" does not exist`},
		{"exec function", merge(kust("transformers: [fn.yaml]\n"), map[string]string{"models/m/fn.yaml": strings.Replace(fnConfig, "%s", "exec: {path: ./annotate.sh}", 1)}),
			nil, `transformers[0]: KRM function Annotator/annotate rejected: tether runs no exec or container functions`},
		{"containerized function", merge(kust("generators: [fn.yaml]\n"), map[string]string{"models/m/fn.yaml": strings.Replace(fnConfig, "%s", "container: {image: example.com/fn:v1}", 1)}),
			nil, `generators[0]: KRM function Annotator/annotate rejected`},
		{"inline function", kust("transformers:\n  - |\n    apiVersion: example.com/v1\n    kind: Fn\n    metadata:\n      name: f\n      annotations:\n        config.kubernetes.io/function: 'exec: {path: /bin/sh}'\n"),
			nil, `transformers[0]: KRM function Fn/f rejected`},
		{"non-builtin plugin", merge(kust("transformers: [plugin.yaml]\n"), map[string]string{"models/m/plugin.yaml": "apiVersion: someteam.example.com/v1\nkind: ValueAdder\nmetadata: {name: add}\n"}),
			nil, `plugin ValueAdder/add (someteam.example.com/v1) rejected: only kustomize's builtin generators and transformers run`},
		{"helm charts", kust("helmCharts:\n  - name: redis\n    repo: https://charts.example.com\n"),
			nil, `models/m/kustomization.yaml:1: helmCharts: Helm charts are not supported`},
		{"helm generator plugin", merge(kust("generators: [helm.yaml]\n"), map[string]string{"models/m/helm.yaml": "apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata: {name: redis}\n"}),
			nil, `generators[0]: HelmChartInflationGenerator/redis rejected: Helm charts are not supported`},
		{"custom openapi schema", merge(kust("openapi:\n  path: schema.json\n"), map[string]string{"models/m/schema.json": "{}"}),
			nil, `openapi: custom OpenAPI schemas are not supported`},
		{"symlink leaving the repository", kust("resources: [secret.yaml]\n"),
			map[string]string{"models/m/secret.yaml": filepath.Join(outside, "secret.yaml")}, `models/m/secret.yaml: symlink to "` + filepath.Join(outside, "secret.yaml") + `" leaves the repository`},
		{"symlink leaving the model folder", merge(kust("resources: [shared.yaml]\n"), map[string]string{"shared/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"}),
			map[string]string{"models/m/shared.yaml": "../../shared/cm.yaml"}, `models/m/shared.yaml: symlink to "../../shared/cm.yaml" leaves models/m`},
		{"component leaving the repository", kust("components: [../../../c]\n"),
			nil, `components[0]: "../../../c" leaves the repository`},
		{"component outside the model escaping its own folder", merge(kust("components: [../../components/c]\n"), map[string]string{"components/c/kustomization.yaml": "kind: Component\nresources: [../../models/other/x.yaml]\n"}),
			nil, `components/c/kustomization.yaml:2: resources[0]: "../../models/other/x.yaml" leaves components/c`},
		{"missing component", kust("components: [../../components/none]\n"),
			nil, `component "../../components/none": components/none: does not exist`},
		{"alias bomb", kust(aliasBomb()), nil, "models/m/kustomization.yaml:2: YAML aliases are not allowed (*a)"},
		{"invalid kustomization", kust("resourcez: [a.yaml]\n"),
			nil, `models/m/kustomization.yaml: invalid Kustomization: json: unknown field "resourcez"`},
		{"model spec as resource", kust("resources: [model.yaml]\n"),
			nil, `resources[0]: "model.yaml" is the model spec; tether adds the rendered model itself`},
		{"component as the overlay", kust("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"),
			nil, `kind Component cannot be a model's overlay`},
		{"reserved file name", merge(kust("resources: []\n"), map[string]string{"models/m/tether-rendered-model.yaml": "{}"}),
			nil, `models/m/tether-rendered-model.yaml is a name tether reserves`},
		{"kustomize build error", kust("patches:\n  - patch: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: nope}\n"),
			nil, `models/m/kustomization.yaml: kustomize build: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeModel(t, dir, "m", validSpec)
			writeTree(t, dir, tt.files)
			for link, target := range tt.links {
				symlink(t, target, filepath.Join(dir, filepath.FromSlash(link)))
			}
			assertOnlyFirstFails(t, dir, render.Options{}, tt.want)
		})
	}
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestRemoteReferencesNeverFetched points every kind of reference at a live
// HTTP server and checks that rendering never calls it.
func TestRemoteReferencesNeverFetched(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		io.WriteString(w, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\n")
	}))
	defer srv.Close()
	u := srv.URL
	dir := t.TempDir()
	writeModel(t, dir, "m", validSpec)
	writeTree(t, dir, map[string]string{"models/m/kustomization.yaml": "resources:\n  - " + u + "/cm.yaml\n  - " + u + "/repo//base?ref=v1\n" +
		"patches:\n  - path: " + u + "/patch.yaml\n" +
		"configMapGenerator:\n  - name: c\n    files: [k=" + u + "/file]\n    envs: [" + u + "/env]\n" +
		"crds: [" + u + "/crd.yaml]\n"})
	res, err := render.Repository(dir, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Units[0].Err == nil || strings.Count(res.Units[0].Err.Error(), "remote reference") != 6 {
		t.Errorf("want 6 rejected remote references, got %v", res.Units[0].Err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("rendering made %d HTTP requests", n)
	}
}

func TestOverlayNeverWritesTheRepository(t *testing.T) {
	before := snapshot(t, "testdata/overlay")
	if _, err := render.Repository("testdata/overlay", goldenOptions); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, "testdata/overlay")
	if len(before) != len(after) {
		t.Fatalf("files changed: %d before, %d after", len(before), len(after))
	}
	for name, content := range before {
		if after[name] != content {
			t.Errorf("%s was modified", name)
		}
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		files[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestDeprecatedFieldsWarnQuietly: kustomize prints deprecation notices to
// stderr itself; render returns them as warnings and keeps stderr clean.
func TestDeprecatedFieldsWarnQuietly(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, dir, "m", validSpec)
	writeTree(t, dir, map[string]string{"models/m/kustomization.yaml": "commonLabels: {team: risk}\n"})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	res, err := render.Repository(dir, render.Options{})
	os.Stderr = stderr
	w.Close()
	printed, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	u := res.Units[0]
	if u.Err != nil || u.Objects[0].GetLabels()["team"] != "risk" {
		t.Fatalf("commonLabels must still apply: err=%v", u.Err)
	}
	if got := strings.Join(u.Warnings, "\n"); !strings.Contains(got, "models/m/kustomization.yaml: 'commonLabels' is deprecated") {
		t.Errorf("warnings = %q", got)
	}
	if len(printed) > 0 {
		t.Errorf("kustomize wrote to stderr: %q", printed)
	}
}

// TestJobNameFollowsOverlay: an overlay that leaves the training Job alone
// keeps the spec's content address; one that changes it gets a new name.
func TestJobNameFollowsOverlay(t *testing.T) {
	spec := with("  serving:", "  training:\n    command: [train]\n  serving:")
	jobName := func(kustomization string) string {
		dir := t.TempDir()
		writeModel(t, dir, "m", spec)
		if kustomization != "" {
			writeTree(t, dir, map[string]string{"models/m/kustomization.yaml": kustomization})
		}
		res, err := render.Repository(dir, render.Options{})
		if err != nil || res.Units[0].Err != nil {
			t.Fatalf("%v %v", err, res.Units[0].Err)
		}
		for _, o := range res.Units[0].Objects {
			if o.GetKind() == "Job" {
				return o.GetName()
			}
		}
		t.Fatal("no Job rendered")
		return ""
	}
	plain := jobName("")
	if got := jobName("labels: [{pairs: {team: risk}}]\n"); got != plain {
		t.Errorf("metadata-only overlay renamed the Job: %s, want %s", got, plain)
	}
	patch := "patches:\n  - target: {kind: Job}\n    patch: '[{\"op\": \"add\", \"path\": \"/spec/backoffLimit\", \"value\": %d}]'\n"
	one, two := jobName(strings.Replace(patch, "%d", "1", 1)), jobName(strings.Replace(patch, "%d", "2", 1))
	if one == plain || two == plain || one == two || !strings.HasPrefix(one, "m-train-") || len(one) != len(plain) {
		t.Errorf("spec-changing overlays must give new, distinct names: plain=%s one=%s two=%s", plain, one, two)
	}
}

func TestBundleProblems(t *testing.T) {
	outside := t.TempDir()
	tests := []struct {
		name  string
		files map[string]string
		links map[string]string
		want  string
	}{
		{"missing folder", nil, nil, "bundles/platform: does not exist"},
		{"no kustomization", map[string]string{"bundles/platform/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n"}, nil,
			"bundles/platform: has no kustomization.yaml"},
		{"escaping", map[string]string{"bundles/platform/kustomization.yaml": "resources: [../../models/m/model.yaml]\n"}, nil,
			`bundles/platform/kustomization.yaml:1: resources[0]: "../../models/m/model.yaml" leaves bundles/platform`},
		{"folder is a symlink out of the repository", nil, map[string]string{"bundles/platform": outside},
			`bundles/platform: "bundles/platform" is a symlink; a bundle's folder and the folders above it must be real directories`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSettings(t, dir, "bundles: [bundles/platform]\n")
			writeModel(t, dir, "m", validSpec)
			writeTree(t, dir, tt.files)
			mkdir(t, filepath.Join(dir, "bundles"))
			for link, target := range tt.links {
				symlink(t, target, filepath.Join(dir, filepath.FromSlash(link)))
			}
			res, err := render.Repository(dir, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			b, m := res.Units[0], res.Units[1]
			if b.Kind != render.KindBundleUnit || b.Err == nil || !strings.Contains(b.Err.Error(), tt.want) {
				t.Errorf("bundle error = %v\nwant it to contain %q", b.Err, tt.want)
			}
			if m.Err != nil || len(m.Objects) == 0 {
				t.Errorf("the model must still render: %v", m.Err)
			}
		})
	}
}

// TestLargeUnreferencedFile: weights or data next to the spec do not stop an
// overlay; only a file kustomize must read is held to the size limit.
func TestLargeUnreferencedFile(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, dir, "m", validSpec)
	writeTree(t, dir, map[string]string{
		"models/m/kustomization.yaml": "labels: [{pairs: {team: risk}}]\n",
		"models/m/weights.bin":        strings.Repeat("w", 9<<20),
	})
	res, err := render.Repository(dir, render.Options{})
	if err != nil || res.Units[0].Err != nil {
		t.Fatalf("%v %v", err, res.Units[0].Err)
	}
}
