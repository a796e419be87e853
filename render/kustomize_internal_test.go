package render

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestKustomizePanicBecomesError: kustomize panics on some malformed inputs
// (Flux's kustomize-controller recovers for the same reason); one model's
// panic must be that model's error, and the lock must be released.
func TestKustomizePanicBecomesError(t *testing.T) {
	real := runKustomize
	t.Cleanup(func() { runKustomize = real })
	runKustomize = func(filesys.FileSystem, string) (resmap.ResMap, error) { panic("boom") }
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"models/m/model.yaml":         strings.Replace(testSpec, "NAME", "m", 1),
		"models/m/kustomization.yaml": "labels: [{pairs: {a: b}}]\n",
		"models/n/model.yaml":         strings.Replace(testSpec, "NAME", "n", 1),
	})
	res, err := Repository(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m := res.Units[0]; m.Err == nil || !strings.Contains(m.Err.Error(), "kustomize build panicked: boom") || m.Objects != nil {
		t.Errorf("model m: %v", m.Err)
	}
	if n := res.Units[1]; n.Err != nil {
		t.Errorf("model n must render: %v", n.Err)
	}
	runKustomize = real
	if u := LoadModel(dir, "m", Options{}); u.Err != nil {
		t.Errorf("after a panic, builds must work again: %v", u.Err)
	}
}

func TestIsRemote(t *testing.T) {
	tests := []struct {
		ref    string
		remote bool
	}{
		{"https://github.com/acme/repo//base?ref=v1", true},
		{"HTTP://example.com/x.yaml", true},
		{"ssh://git@example.com/acme/repo.git", true},
		{"file:///srv/git/repo", true},
		{"git::https://example.com/repo", true},
		{"github.com/acme/repo/base", true},
		{"GitHub.com:acme/repo", true},
		{"git@gitlab.example.com:acme/repo.git", true},
		{"base?ref=main", true},
		{"s3::https://bucket/x", true},
		{"base", false},
		{"../base", false},
		{"deployment.yaml", false},
		{"sub/dir/kustomization.yaml", false},
		{"user@notes.txt", false},
	}
	for _, tt := range tests {
		if got := isRemote(tt.ref); got != tt.remote {
			t.Errorf("isRemote(%q) = %v, want %v", tt.ref, got, tt.remote)
		}
	}
}

func TestPrependResource(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{"no resources", "namePrefix: a-\n", "namePrefix: a-\nresources:\n    - gen.yaml\n", ""},
		{"existing list", "# keep me\nresources:\n  - a.yaml # and me\n", "# keep me\nresources:\n    - gen.yaml\n    - a.yaml # and me\n", ""},
		{"null resources", "resources:\n", "resources:\n    - gen.yaml\n", ""},
		{"resources not a list", "resources: a.yaml\n", "", "resources is not a list"},
		{"not a mapping", "- a\n", "", "expected a Kustomization mapping"},
		{"component", "kind: Component\n", "", "kind Component cannot be a model's overlay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := prependResource([]byte(tt.in), "gen.yaml")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
}

func TestLineOf(t *testing.T) {
	src := "metadata:\n  labels:\n    app.kubernetes.io/name: x\n    app: y\nsyncWindows:\n  - kind: deny\n    models:\n      - a\n      - b\n"
	root := parse(t, src)
	tests := []struct {
		path string
		line int
	}{
		{"metadata", 1},
		{"metadata.labels.app.kubernetes.io/name", 3},
		{"metadata.labels.app", 4},
		{"metadata.labels.missing", 2},
		{"syncWindows[0].kind", 6},
		{"syncWindows[0].models[1]", 9},
		{"syncWindows[3].kind", 5},
	}
	for _, tt := range tests {
		if got := lineOf(root, tt.path); got != tt.line {
			t.Errorf("lineOf(%q) = %d, want %d", tt.path, got, tt.line)
		}
	}
	if got := pathAtLine(root, 9, nil); got != "syncWindows[0].models[1]" {
		t.Errorf("pathAtLine(9) = %q", got)
	}
}
