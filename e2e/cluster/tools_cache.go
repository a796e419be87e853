package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Tools is a build of a tools module that lives outside this package, such as
// the Flux controllers e2e/bench runs next to tether. BuildTools caches it the
// way Build caches the control plane: under the same root, keyed by what
// decides the binaries, behind a lock, built in a temporary directory that is
// renamed into place.
type Tools struct {
	Name    string   // cache entry prefix, also what progress lines call the build
	Module  string   // absolute path of the tools module (its go.mod and go.sum key the cache)
	Pkgs    []string // main packages, written into the entry under their base names
	LDFlags string   // -ldflags, if any
	// Extra, if set, runs after the build with the module's directory and the
	// temporary entry, to copy files out of the module cache (CRDs, say).
	Extra func(ctx context.Context, module, dir string) error
	// Files are paths relative to the entry that must exist besides the
	// binaries for the entry to count as complete.
	Files []string
}

// BuildTools builds t into the cache, unless it is there already, and returns
// the entry's directory. The binaries are static (CGO_ENABLED=0).
func BuildTools(ctx context.Context, t Tools, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	key, err := t.cacheKey()
	if err != nil {
		return "", err
	}
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, key)
	if t.complete(dir) {
		return dir, nil
	}
	unlock, err := lock(ctx, filepath.Join(root, key+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if t.complete(dir) {
		return dir, nil
	}
	fmt.Fprintf(log, "cluster: building %s into %s (progress every %s)\n", t.Name, dir, progressEvery)
	start := time.Now()
	if err := t.buildInto(ctx, root, dir, log); err != nil {
		return "", fmt.Errorf("build %s: %w", t.Name, err)
	}
	fmt.Fprintf(log, "cluster: %s built in %s\n", t.Name, time.Since(start).Round(time.Second))
	return dir, nil
}

func (t Tools) buildInto(ctx context.Context, root, dir string, log io.Writer) error {
	return buildAtomically(root, dir, t.complete, func(tmp string) error {
		args := []string{"build", "-v", "-o", tmp + string(filepath.Separator)}
		if t.LDFlags != "" {
			args = append(args, "-ldflags", t.LDFlags)
		}
		cmd := goCommand(ctx, t.Module, append(args, t.Pkgs...)...)
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
		p := startProgress(log, "building "+t.Name)
		cmd.Stdout, cmd.Stderr = p, p
		err := cmd.Run()
		p.finish()
		if err != nil {
			return fmt.Errorf("go build in %s: %w", t.Module, err)
		}
		if t.Extra == nil {
			return nil
		}
		return t.Extra(ctx, t.Module, tmp)
	})
}

// cacheKey hashes the module's go.mod and go.sum, the packages, the link
// flags, the extra files and the Go toolchain (see cacheKey for why
// runtime.Version is the go command's). Packages and files are sets: the
// order a caller lists them in (a map's, say) does not change the key.
func (t Tools) cacheKey() (string, error) {
	h := sha256.New()
	pkgs, files := slices.Sorted(slices.Values(t.Pkgs)), slices.Sorted(slices.Values(t.Files))
	fmt.Fprintf(h, "pkgs %s\nldflags %q\nfiles %s\n", strings.Join(pkgs, " "), t.LDFlags, strings.Join(files, " "))
	for _, file := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(t.Module, file))
		if err != nil {
			return "", fmt.Errorf("%s cache key: %w", t.Name, err)
		}
		fmt.Fprintf(h, "%s %d\n", file, len(data))
		h.Write(data)
	}
	fmt.Fprintf(h, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return t.Name + "-" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

func (t Tools) complete(dir string) bool {
	files := append([]string(nil), t.Files...)
	for _, pkg := range t.Pkgs {
		files = append(files, filepath.Base(pkg))
	}
	for _, name := range files {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// ModuleDir is where the module cache holds a dependency of the tools module
// in dir, as `go list -m -f {{.Dir}}` reports it.
func ModuleDir(ctx context.Context, dir, module string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := goCommand(ctx, dir, "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("locate %s: %w: %s", module, err, stderr.String())
	}
	src := strings.TrimSpace(stdout.String())
	if src == "" {
		return "", fmt.Errorf("locate %s: not in the module cache", module)
	}
	return src, nil
}
