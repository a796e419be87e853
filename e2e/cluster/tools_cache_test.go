package cluster_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-ml/tether/e2e/cluster"
)

// TestBuildTools builds a small tools module, runs the binary, finds the
// entry cached on the next call (without a go command to run), also with its
// files listed in another order, and builds a new entry once the module's
// go.mod changes.
func TestBuildTools(t *testing.T) {
	t.Setenv("TETHER_CLUSTER_CACHE", t.TempDir())
	module := t.TempDir()
	writeFile(t, filepath.Join(module, "go.mod"), "module example.com/tools\n\ngo 1.26.0\n")
	writeFile(t, filepath.Join(module, "go.sum"), "")
	writeFile(t, filepath.Join(module, "hello", "main.go"), "package main\n\nfunc main() { println(\"hello\") }\n")
	extras := 0
	tools := cluster.Tools{
		Name:   "hello",
		Module: module,
		Pkgs:   []string{"example.com/tools/hello"},
		Extra: func(_ context.Context, mod, dir string) error {
			extras++
			if mod != module {
				t.Errorf("Extra got module %s, want %s", mod, module)
			}
			if err := os.WriteFile(filepath.Join(dir, "data.txt"), []byte("data"), 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "more.txt"), []byte("more"), 0o644)
		},
		Files: []string{"data.txt", "more.txt"},
	}
	dir, err := cluster.BuildTools(t.Context(), tools, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(dir, "hello")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "hello" {
		t.Fatalf("built hello: %q, %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data.txt")); err != nil {
		t.Errorf("Extra's file: %v", err)
	}

	path := os.Getenv("PATH")
	t.Setenv("PATH", t.TempDir()) // a cached entry needs no go command
	again, err := cluster.BuildTools(t.Context(), tools, nil)
	if err != nil || again != dir || extras != 1 {
		t.Errorf("second BuildTools = %s, %v (Extra ran %d times); want %s from the cache", again, err, extras, dir)
	}
	reordered := tools
	reordered.Files = []string{"more.txt", "data.txt"} // as a map's iteration may list them
	if again, err := cluster.BuildTools(t.Context(), reordered, nil); err != nil || again != dir || extras != 1 {
		t.Errorf("BuildTools with the files in another order = %s, %v (Extra ran %d times); want %s from the cache", again, err, extras, dir)
	}
	t.Setenv("PATH", path)

	writeFile(t, filepath.Join(module, "go.mod"), "module example.com/tools\n\ngo 1.26.1\n")
	changed, err := cluster.BuildTools(t.Context(), tools, nil)
	if err != nil || changed == dir {
		t.Errorf("BuildTools after a go.mod change = %s, %v; want a new entry", changed, err)
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
