package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// stageFiles are the kwok Stage definitions, relative to the kwok module, that
// make fake nodes Ready and move pods through Running to Succeeded or deletion.
var stageFiles = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat/node-heartbeat.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

// goBuild runs one go build inside its tools module, writing into binDir.
func goBuild(ctx context.Context, tools, binDir string, step buildStep, log io.Writer) error {
	out := binDir + string(filepath.Separator)
	if step.out != "" {
		out = filepath.Join(binDir, step.out)
	}
	args := []string{"build", "-v", "-o", out}
	if step.ldflags != "" {
		args = append(args, "-ldflags", step.ldflags)
	}
	args = append(args, step.pkgs...)
	fmt.Fprintf(log, "cluster: go %s (in tools/%s)\n", strings.Join(args, " "), step.module)
	cmd := goCommand(ctx, filepath.Join(tools, step.module), args...)
	p := startProgress(log, "building "+step.name())
	cmd.Stdout, cmd.Stderr = p, p
	err := cmd.Run()
	p.finish()
	if err != nil {
		return fmt.Errorf("go build in tools/%s: %w", step.module, err)
	}
	return nil
}

// copyStages copies kwok's stage files out of the module cache into dst.
func copyStages(ctx context.Context, tools, dst string) error {
	src, err := ModuleDir(ctx, filepath.Join(tools, "kwok"), "sigs.k8s.io/kwok")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, name := range stageFiles {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return fmt.Errorf("kwok stage: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(name)), data, 0o644); err != nil {
			return fmt.Errorf("kwok stage: %w", err)
		}
	}
	return nil
}

// goCommand prepares the go command in dir. GOWORK=off keeps a workspace
// file above the repository from changing what the tools modules resolve.
func goCommand(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	return cmd
}
