package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/tether-ml/tether/e2e/cluster"
)

// Flux's controllers, built from the Go module proxy in the tools module
// tools/flux (its go.mod says which versions and why), never in tether's own.
const (
	sourceController    = "github.com/fluxcd/source-controller"
	kustomizeController = "github.com/fluxcd/kustomize-controller"
	fluxVersion         = "v1.9.6" // both controllers; Flux's own release line is v2.x
)

// fluxCRDs are the CRD files each controller module ships in config/crd/bases.
// source-controller watches every kind of source, so it needs all of its own.
var fluxCRDs = map[string][]string{
	sourceController: {
		"source.toolkit.fluxcd.io_buckets.yaml",
		"source.toolkit.fluxcd.io_externalartifacts.yaml",
		"source.toolkit.fluxcd.io_gitrepositories.yaml",
		"source.toolkit.fluxcd.io_helmcharts.yaml",
		"source.toolkit.fluxcd.io_helmrepositories.yaml",
		"source.toolkit.fluxcd.io_ocirepositories.yaml",
	},
	kustomizeController: {"kustomize.toolkit.fluxcd.io_kustomizations.yaml"},
}

// buildFlux builds (or finds cached) source-controller and kustomize-controller
// and their CRDs, in the control plane's cache, and returns the directory.
func buildFlux(ctx context.Context, log io.Writer) (string, error) {
	module, err := fluxModule()
	if err != nil {
		return "", err
	}
	var files []string
	for _, names := range fluxCRDs {
		for _, name := range names {
			files = append(files, filepath.Join("crds", name))
		}
	}
	return cluster.BuildTools(ctx, cluster.Tools{
		Name:    "flux-" + fluxVersion,
		Module:  module,
		Pkgs:    []string{sourceController, kustomizeController},
		LDFlags: "-s -w",
		Extra:   copyFluxCRDs,
		Files:   files,
	}, log)
}

// fluxModule finds tools/flux beside this source file (go run inside the
// repository), else below the working directory (the repository root).
func fluxModule() (string, error) {
	dirs := []string{filepath.Join("e2e", "bench", "tools", "flux")}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dirs = append([]string{filepath.Join(filepath.Dir(file), "tools", "flux")}, dirs...)
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Abs(dir)
		}
	}
	return "", fmt.Errorf("flux tools module: none of %v has a go.mod (run the bench from the repository root)", dirs)
}

// copyFluxCRDs copies the CRDs out of the module cache into dir/crds.
func copyFluxCRDs(ctx context.Context, module, dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "crds"), 0o755); err != nil {
		return err
	}
	for mod, names := range fluxCRDs {
		src, err := cluster.ModuleDir(ctx, module, mod)
		if err != nil {
			return err
		}
		for _, name := range names {
			data, err := os.ReadFile(filepath.Join(src, "config", "crd", "bases", name))
			if err != nil {
				return fmt.Errorf("flux CRD: %w", err)
			}
			if err := os.WriteFile(filepath.Join(dir, "crds", name), data, 0o644); err != nil {
				return fmt.Errorf("flux CRD: %w", err)
			}
		}
	}
	return nil
}
