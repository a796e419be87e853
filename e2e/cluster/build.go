package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// KubeVersion is the Kubernetes version Build stamps into the control plane.
const KubeVersion = "v1.36.3"

// Binaries lists the programs Build places in its bin directory.
var Binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok"}

// kubeLDFlags strips the binaries and stamps the version they report; without
// the -X flags a source build reports v0.0.0-master.
const kubeLDFlags = "-s -w" +
	" -X k8s.io/component-base/version.gitVersion=" + KubeVersion +
	" -X k8s.io/component-base/version.gitMajor=1" +
	" -X k8s.io/component-base/version.gitMinor=36" +
	" -X k8s.io/client-go/pkg/version.gitVersion=" + KubeVersion +
	" -X k8s.io/client-go/pkg/version.gitMajor=1" +
	" -X k8s.io/client-go/pkg/version.gitMinor=36"

// buildStep is one go build run inside a tools module.
type buildStep struct {
	module  string   // folder under tools/
	out     string   // output file name; empty writes every main package into the bin dir
	ldflags string   // -ldflags value, if any
	pkgs    []string // main packages to build
}

// name is what a person watching the build recognises: the binaries' names.
func (s buildStep) name() string {
	names := make([]string, len(s.pkgs))
	for i, pkg := range s.pkgs {
		names[i] = path.Base(pkg)
	}
	if s.out != "" {
		return s.out
	}
	return strings.Join(names, ", ")
}

var buildSteps = []buildStep{
	{module: "etcd", out: "etcd", pkgs: []string{"go.etcd.io/etcd/server/v3"}},
	{module: "kwok", out: "kwok", pkgs: []string{"sigs.k8s.io/kwok/cmd/kwok"}},
	{module: "kube", ldflags: kubeLDFlags, pkgs: []string{
		"k8s.io/kubernetes/cmd/kube-apiserver",
		"k8s.io/kubernetes/cmd/kube-controller-manager",
		"k8s.io/kubernetes/cmd/kube-scheduler",
		"k8s.io/kubernetes/cmd/kubectl",
	}},
}

// Build compiles the control plane into a cache directory outside the
// repository and returns that directory. When every binary already exists for
// the current inputs it returns at once without running go. The go command's
// output goes to log, which may be nil. A build happens in a temporary
// directory renamed into place, so an interrupted build leaves no partial
// cache, and a file lock keeps concurrent test packages from building twice.
func Build(ctx context.Context, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	tools, err := toolsDir()
	if err != nil {
		return "", err
	}
	key, err := cacheKey(tools)
	if err != nil {
		return "", err
	}
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	binDir := filepath.Join(root, key)
	if complete(binDir) {
		return binDir, nil
	}
	unlock, err := lock(ctx, filepath.Join(root, key+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if complete(binDir) {
		return binDir, nil
	}
	fmt.Fprintf(log, "cluster: building the control plane into %s; a cold build takes 15-25 min on 2 cores (progress every %s)\n", binDir, progressEvery)
	start := time.Now()
	if err := buildInto(ctx, tools, root, binDir, log); err != nil {
		return "", fmt.Errorf("build control plane: %w", err)
	}
	fmt.Fprintf(log, "cluster: control plane built in %s; it is cached in %s, so later runs start in seconds\n",
		time.Since(start).Round(time.Second), binDir)
	return binDir, nil
}

// buildInto builds into a fresh temporary directory under root and renames it
// to binDir once everything is in place.
func buildInto(ctx context.Context, tools, root, binDir string, log io.Writer) error {
	return buildAtomically(root, binDir, complete, func(tmp string) error {
		for _, step := range buildSteps {
			if err := goBuild(ctx, tools, tmp, step, log); err != nil {
				return err
			}
		}
		return copyStages(ctx, tools, filepath.Join(tmp, "stages"))
	})
}

// buildAtomically runs fill in a fresh temporary directory under root and
// renames it to dir when complete says everything is there, so an interrupted
// build leaves no partial cache entry. Leftovers of interrupted builds go first.
func buildAtomically(root, dir string, complete func(string) bool, fill func(tmp string) error) error {
	stale, _ := filepath.Glob(dir + ".tmp-*")
	for _, d := range stale {
		_ = os.RemoveAll(d)
	}
	tmp, err := os.MkdirTemp(root, filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := fill(tmp); err != nil {
		return err
	}
	if !complete(tmp) {
		return errors.New("build finished without every file")
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// complete reports whether dir holds every binary and stage file.
func complete(dir string) bool {
	for _, name := range Binaries {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	for _, name := range stageFiles {
		if _, err := os.Stat(filepath.Join(dir, "stages", filepath.Base(name))); err != nil {
			return false
		}
	}
	return true
}
