package plan

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
)

const digest = "@sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"

// model is a model.yaml serving with replicas and optional extra spec lines.
func model(image string, replicas int, extra ...string) string {
	return fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
spec:
  image: %s
  serving:
    port: 8080
    replicas: %d
    resources: {cpu: 500m, memory: 1Gi}
%s`, image, replicas, strings.Join(extra, "\n"))
}

const pinned = "registry.example.com/m" + digest

// trainer is a model that trains (with the given epochs) and serves.
func trainer(epochs string) string {
	return `apiVersion: tether.dev/v1alpha1
kind: Model
spec:
  image: ` + pinned + `
  training:
    command: [python, train.py]
    args: ["--epochs", "` + epochs + `"]
    resources: {cpu: "2", memory: 8Gi, gpu: 1}
    activeDeadlineSeconds: 3600
  serving:
    replicas: 2
    resources: {cpu: "1", memory: 2Gi}
`
}

// files is a repository's content; with overrides the content of another.
type files map[string]string

func (f files) with(overrides files) files {
	out := maps.Clone(f)
	for k, v := range overrides {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// rendered renders a repository written from fs with the daemon's defaults.
func rendered(t *testing.T, ref string, fs files) Revision {
	t.Helper()
	return renderedIn(t, ref, "ml", fs)
}

// renderedIn renders fs with namespace as the default.
func renderedIn(t *testing.T, ref, namespace string, fs files) Revision {
	t.Helper()
	dir := t.TempDir()
	for name, content := range fs {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := render.Repository(dir, render.Options{DefaultNamespace: namespace, DefaultDrift: render.DriftRevert})
	return Revision{Ref: ref, Commit: strings.Repeat(ref[:1], 40), Result: res, Err: err}
}

func offline(t *testing.T, base, head files, opts Options) *Plan {
	t.Helper()
	if opts.MaxPrune == (reconcile.PruneLimit{}) {
		opts.MaxPrune = reconcile.PruneLimit{Percent: 50}
	}
	return Offline(rendered(t, "base", base), rendered(t, "head", head), opts)
}

// actions maps "unit Kind/ns/name" to each object's action.
func actions(p *Plan) map[string]Action {
	out := map[string]Action{}
	for _, u := range p.Units {
		for i := range u.Objects {
			out[u.Name+" "+u.Objects[i].String()] = u.Objects[i].Action
		}
	}
	return out
}

func unitByName(t *testing.T, p *Plan, name string) *Unit {
	t.Helper()
	for i := range p.Units {
		if p.Units[i].Name == name {
			return &p.Units[i]
		}
	}
	t.Fatalf("no unit %s in the plan", name)
	return nil
}

func objectByName(t *testing.T, u *Unit, key string) *Object {
	t.Helper()
	for i := range u.Objects {
		if u.Objects[i].String() == key {
			return &u.Objects[i]
		}
	}
	t.Fatalf("no object %s in unit %s", key, u.Name)
	return nil
}

// bundle writes a bundle of raw manifests and the tether.yaml listing it.
func bundle(name string, manifests ...string) files {
	var names []string
	out := files{}
	for i, m := range manifests {
		file := fmt.Sprintf("r%d.yaml", i)
		names = append(names, file)
		out["bundles/"+name+"/"+file] = m
	}
	out["bundles/"+name+"/kustomization.yaml"] = "resources: [" + strings.Join(names, ", ") + "]\n"
	return out
}
