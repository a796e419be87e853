package render_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/tether-ml/tether/render"
)

// aliased is a ConfigMap with one harmless alias (line 6): any alias is
// refused, not only the ones that explode.
const aliased = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n  a: &v x\n  b: *v\n"

// aliasedPatch patches the model's Deployment with an alias on line 5.
const aliasedPatch = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: m}\nspec:\n  replicas: &r 2\n  revisionHistoryLimit: *r\n"

// TestYAMLAliasesRejected: kustomize expands every alias of a file it reads
// (issue 11: 306 bytes of nested aliases in a resource took 4 GiB and killed
// the daemon), so an alias in any YAML kustomize would parse is that unit's
// error, found before kustomize runs.
func TestYAMLAliasesRejected(t *testing.T) {
	kust := func(body string, files ...string) map[string]string {
		m := map[string]string{"models/m/kustomization.yaml": body}
		for i := 0; i+1 < len(files); i += 2 {
			m[files[i]] = files[i+1]
		}
		return m
	}
	const notAllowed = ": YAML aliases are not allowed (*"
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"kustomization", kust("resources: []\nlabels:\n  - pairs: &p {a: b}\n  - pairs: *p\n"),
			"models/m/kustomization.yaml:4" + notAllowed + "p)"},
		{"resource", kust("resources: [cm.yaml]\n", "models/m/cm.yaml", aliased),
			"models/m/cm.yaml:6" + notAllowed + "v)"},
		{"kustomization of a resource folder", kust("resources: [base]\n", "models/m/base/kustomization.yaml", "resources: &r []\nlabels: [{pairs: {a: b}}]\nx: *r\n"),
			"models/m/base/kustomization.yaml:3" + notAllowed},
		{"resource of a resource folder", kust("resources: [base]\n", "models/m/base/kustomization.yaml", "resources: [cm.yaml]\n", "models/m/base/cm.yaml", aliased),
			"models/m/base/cm.yaml:6" + notAllowed},
		{"patch file", kust("patches: [{path: p.yaml}]\n", "models/m/p.yaml", aliasedPatch),
			"models/m/p.yaml:6" + notAllowed + "r)"},
		{"strategic merge patch file", kust("patchesStrategicMerge: [p.yaml]\n", "models/m/p.yaml", aliasedPatch),
			"models/m/p.yaml:6" + notAllowed},
		{"JSON 6902 patch file", kust("patchesJson6902:\n  - target: {group: apps, version: v1, kind: Deployment, name: m}\n    path: p.yaml\n",
			"models/m/p.yaml", "- op: add\n  path: /metadata/labels/a\n  value: &v x\n- op: add\n  path: /metadata/labels/b\n  value: *v\n"),
			"models/m/p.yaml:6" + notAllowed},
		{"inline patch", kust("patches:\n  - patch: |-\n" + indent(aliasedPatch, "      ")),
			"models/m/kustomization.yaml:2: patches[0].patch: YAML aliases are not allowed (*r at line 6 of this value)"},
		{"inline strategic merge patch", kust("patchesStrategicMerge:\n  - |-\n" + indent(aliasedPatch, "    ")),
			"models/m/kustomization.yaml:2: patchesStrategicMerge[0]: YAML aliases are not allowed (*r at line 6"},
		{"component", kust("components: [c]\n", "models/m/c/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cm.yaml]\n", "models/m/c/cm.yaml", aliased),
			"models/m/c/cm.yaml:6" + notAllowed},
		{"component outside the model", kust("components: [../../components/c]\n", "components/c/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: [{path: p.yaml}]\n", "components/c/p.yaml", aliasedPatch),
			"components/c/p.yaml:6" + notAllowed},
		{"crds file", kust("crds: [crd.yaml]\n", "models/m/crd.yaml", aliased),
			"models/m/crd.yaml:6" + notAllowed},
		{"replacements file", kust("replacements: [{path: r.yaml}]\n", "models/m/r.yaml", "source: &s {kind: Deployment, fieldPath: metadata.name}\ntargets:\n  - select: {kind: Service}\n    fieldPaths: [metadata.labels.x]\n    source: *s\n"),
			"models/m/r.yaml:5" + notAllowed},
		{"transformer config file", kust("transformers: [t.yaml]\n", "models/m/t.yaml", "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: l}\nlabels: &l {a: b}\nx: *l\n"),
			"models/m/t.yaml:5" + notAllowed},
		{"inline transformer config", kust("transformers:\n  - |\n    apiVersion: builtin\n    kind: LabelTransformer\n    metadata: {name: l}\n    labels: &l {a: b}\n    x: *l\n"),
			"models/m/kustomization.yaml:2: transformers[0]: YAML aliases are not allowed (*l at line 5 of this value)"},
		{"file named in a builtin transformer", kust("transformers: [t.yaml]\n", "models/m/t.yaml", "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: p.yaml\n", "models/m/p.yaml", aliasedPatch),
			"models/m/p.yaml:6" + notAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeModel(t, dir, "m", validSpec)
			writeTree(t, dir, tt.files)
			assertOnlyFirstFails(t, dir, render.Options{}, tt.want)
		})
	}
}

// TestYAMLAliasLookalikesBuild: a '*' that is not an alias, and anchors or
// aliases in files kustomize reads as data, still build.
func TestYAMLAliasLookalikesBuild(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, dir, "m", validSpec)
	writeTree(t, dir, map[string]string{
		"models/m/kustomization.yaml": "resources: [role.yaml, job.yaml]\nconfigMapGenerator:\n  - name: c\n    files: [compose.yaml]\n    envs: [vars.env]\n",
		"models/m/role.yaml":          "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules:\n  - apiGroups: ['*']\n    resources: [\"*\"]\n    verbs: [get] # *not* everything\n",
		"models/m/job.yaml": "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: j, labels: &l {a: b}}\nspec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n" +
			"          restartPolicy: Never\n          containers:\n            - name: c\n              image: busybox\n              command: [sh, -c, ls *.txt a*b]\n              args:\n                - |\n                  * a list item\n                  *bold*\n",
		"models/m/compose.yaml": "base: &base {image: x}\nweb: *base\n",
		"models/m/vars.env":     "GLOB=*x\n",
		"models/m/README.md":    "*x is read by no one\n",
	})
	u := render.LoadModel(dir, "m", render.Options{})
	if u.Err != nil {
		t.Fatalf("no alias here, want a build: %v", u.Err)
	}
	if len(u.Objects) != 5 {
		t.Errorf("got %d objects, want 5 (Deployment, Service, Role, CronJob, ConfigMap)", len(u.Objects))
	}
}

// TestBundleAliasRejected: a bundle with an alias fails alone.
func TestBundleAliasRejected(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, dir, "m", validSpec)
	writeTree(t, dir, map[string]string{
		"tether.yaml":                     "bundles: [bundles/bad, bundles/good]\n",
		"bundles/bad/kustomization.yaml":  "resources: [cm.yaml]\n",
		"bundles/bad/cm.yaml":             aliased,
		"bundles/good/kustomization.yaml": "resources: [ns.yaml]\n",
		"bundles/good/ns.yaml":            "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n",
		"models/m/kustomization.yaml":     "resources: []\n",
	})
	res, err := render.Repository(dir, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range res.Units {
		want := ""
		if u.Name == "bad" {
			want = "bundles/bad/cm.yaml:6: YAML aliases are not allowed"
		}
		if got := errText(u.Err); !strings.Contains(got, want) || (want == "" && got != "") {
			t.Errorf("unit %s: error %q, want %q", u.Name, got, want)
		}
	}
}

// TestAliasBombRejectedCheaply renders the classic "billion laughs" (306
// bytes; before the fix the daemon died of it, out of memory) as a resource
// and checks that rejecting it allocates next to nothing. Time is measured
// by BenchmarkAliasBombRejected.
func TestAliasBombRejectedCheaply(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, dir, "m", validSpec)
	writeTree(t, dir, map[string]string{"models/m/kustomization.yaml": "resources: [bomb.yaml]\n", "models/m/bomb.yaml": aliasBomb()})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	u := render.LoadModel(dir, "m", render.Options{})
	runtime.ReadMemStats(&after)
	if want := "models/m/bomb.yaml:2: YAML aliases are not allowed (*a)"; !strings.Contains(errText(u.Err), want) {
		t.Errorf("error = %v\nwant it to contain %q", u.Err, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("rejecting a %d-byte bomb allocated %d MiB; want it bounded by the file's size", len(aliasBomb()), alloc>>20)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+prefix) + "\n"
}

// BenchmarkAliasBombRejected renders a model whose overlay lists the classic
// 306-byte "billion laughs" as a resource. Before the fix this ran out of
// memory after ~20 s and 4 GiB; now the unit fails fast:
//
//	go test ./render -run '^$' -bench AliasBomb
func BenchmarkAliasBombRejected(b *testing.B) {
	dir := b.TempDir()
	writeModel(b, dir, "m", validSpec)
	writeTree(b, dir, map[string]string{"models/m/kustomization.yaml": "resources: [bomb.yaml]\n", "models/m/bomb.yaml": aliasBomb()})
	b.ReportAllocs()
	for b.Loop() {
		if u := render.LoadModel(dir, "m", render.Options{}); u.Err == nil {
			b.Fatal("the bomb must be refused")
		}
	}
}

// TestSpecAliasBombsAreCheap: model.yaml and tether.yaml may use aliases;
// they decode into typed fields only, and yaml.v3 caps alias expansion, so a
// bomb there is an error that costs next to nothing.
func TestSpecAliasBombsAreCheap(t *testing.T) {
	bomb := "x:\n" + indent(aliasBomb(), "  ")
	tests := []struct {
		name, file, content, want string
	}{
		{"model args", "models/m/model.yaml", bomb + validSpec + "  training:\n    args: *i\n", "models/m/model.yaml"},
		{"model labels", "models/m/model.yaml", bomb + strings.Replace(validSpec, "name: m\n", "name: m\n  labels: *i\n", 1), "models/m/model.yaml"},
		{"model env", "models/m/model.yaml", bomb + strings.Replace(validSpec, "port: 8080\n", "port: 8080\n    env: {A: *i}\n", 1), "models/m/model.yaml"},
		{"settings bundles", "tether.yaml", bomb + "bundles: *i\n", "tether.yaml"},
		{"settings windows", "tether.yaml", bomb + "syncWindows: [{kind: deny, schedule: '0 9 * * *', duration: 1h, models: *i}]\n", "tether.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeModel(t, dir, "m", validSpec)
			writeTree(t, dir, map[string]string{tt.file: tt.content})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res, err := render.Repository(dir, render.Options{})
			runtime.ReadMemStats(&after)
			if err == nil {
				err = res.Units[0].Err
			}
			if !strings.Contains(errText(err), tt.want) {
				t.Errorf("error = %v, want one in %s", err, tt.want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
				t.Errorf("refusing the bomb allocated %d MiB", alloc>>20)
			}
		})
	}
}
