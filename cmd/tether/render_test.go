package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testdata = "../../render/testdata"

func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodModel = `apiVersion: tether.dev/v1alpha1
kind: Model
spec:
  image: registry.example.com/m:v1
  serving:
    port: 8080
`

func TestRenderCommand(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join(testdata, "bundles.golden.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := writeRepo(t, map[string]string{"models/good/model.yaml": goodModel, "models/bad/model.yaml": "kind: Model\n"})
	tests := []struct {
		name    string
		args    []string
		want    string // exact stdout, or a substring of the error
		wantErr bool
	}{
		{"whole repository, byte-stable", []string{filepath.Join(testdata, "bundles")}, string(golden), false},
		{"flags after the directory", []string{filepath.Join(testdata, "bundles"), "--default-namespace", "other"}, string(golden), false},
		{"one bundle", []string{"--model", "platform", filepath.Join(testdata, "bundles")}, "kind: Namespace", false},
		{"unknown model", []string{"--model", "nope", filepath.Join(testdata, "bundles")}, `model "nope" not found`, true},
		{"an invalid model renders nothing", []string{broken}, "models/bad/model.yaml:1: apiVersion", true},
		{"the valid one alone", []string{broken, "--model", "good"}, "name: good", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := renderCommand(tt.args, &out)
			switch {
			case tt.wantErr:
				if err == nil || !strings.Contains(err.Error(), tt.want) || out.Len() > 0 {
					t.Errorf("err = %v, stdout %d bytes; want error containing %q and no output", err, out.Len(), tt.want)
				}
			case err != nil:
				t.Fatal(err)
			case strings.HasPrefix(tt.name, "whole") || strings.HasPrefix(tt.name, "flags"):
				if out.String() != tt.want {
					t.Errorf("stdout differs from %s", filepath.Join(testdata, "bundles.golden.yaml"))
				}
			case !strings.Contains(out.String(), tt.want):
				t.Errorf("stdout lacks %q:\n%s", tt.want, out.String())
			}
		})
	}
}

func TestValidateCommand(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		code  int
		want  []string
	}{
		{"valid", map[string]string{"models/m/model.yaml": goodModel}, nil, 0,
			[]string{`warning: models/m/model.yaml:4: spec.image: "registry.example.com/m:v1" is not pinned by digest`, "1 models valid"}},
		{"require-digest flag", map[string]string{"models/m/model.yaml": goodModel}, []string{"--require-digest"}, 1,
			[]string{"models/m/model.yaml:4: spec.image: \"registry.example.com/m:v1\" has no digest", "1 of 1 units invalid"}},
		{"requireDigest from tether.yaml", map[string]string{"models/m/model.yaml": goodModel, "tether.yaml": "requireDigest: true\n"}, nil, 1,
			[]string{"has no digest"}},
		{"every error of every model", map[string]string{
			"models/a/model.yaml": "kind: Model\nspec: {image: x}\n",
			"models/b/model.yaml": goodModel + "    prot: 1\n",
		}, nil, 1, []string{"models/a/model.yaml:1: apiVersion", "models/a/model.yaml:2: spec: has neither training nor serving",
			`models/b/model.yaml:7: spec.serving.prot: unknown field "prot"`, "2 of 2 units invalid"}},
		{"invalid tether.yaml", map[string]string{"models/m/model.yaml": goodModel, "tether.yaml": "drift: sometimes\nbundles: [../x]\n"}, nil, 1,
			[]string{`tether.yaml:1: drift: "sometimes" is not a drift mode`, `tether.yaml:2: bundles[0]`, "nothing of this revision would be applied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeRepo(t, tt.files)
			var out bytes.Buffer
			err := validateCommand(append([]string{dir}, tt.args...), &out)
			var code exitCode
			if errors.As(err, &code); int(code) != tt.code || (err != nil && code == 0) {
				t.Errorf("exit = %v, want %d", err, tt.code)
			}
			for _, want := range tt.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}
