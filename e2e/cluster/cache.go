package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// cacheRoot is $TETHER_CLUSTER_CACHE, else tether/cluster under the user
// cache directory ($XDG_CACHE_HOME or ~/.cache).
func cacheRoot() (string, error) {
	root := os.Getenv("TETHER_CLUSTER_CACHE")
	if root == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("cluster cache: %w", err)
		}
		root = filepath.Join(base, "tether", "cluster")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("cluster cache: %w", err)
	}
	return root, nil
}

// cacheKey hashes everything that decides the binaries: the tools modules'
// go.mod and go.sum, the build steps with their link flags, the stage files
// and the Go toolchain. The toolchain is taken from runtime.Version, which is
// the go command's own version under go test and go run, so a cache hit needs
// no go invocation.
func cacheKey(tools string) (string, error) {
	h := sha256.New()
	for _, step := range buildSteps {
		fmt.Fprintf(h, "step %s %s %q %s\n", step.module, step.out, step.ldflags, strings.Join(step.pkgs, " "))
		for _, file := range []string{"go.mod", "go.sum"} {
			data, err := os.ReadFile(filepath.Join(tools, step.module, file))
			if err != nil {
				return "", fmt.Errorf("cluster cache key: %w", err)
			}
			fmt.Fprintf(h, "%s/%s %d\n", step.module, file, len(data))
			h.Write(data)
		}
	}
	fmt.Fprintf(h, "stages %s\n", strings.Join(stageFiles, " "))
	fmt.Fprintf(h, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return KubeVersion + "-" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// lock takes an exclusive flock on path, polling so ctx can cancel the wait.
// The returned func releases it.
func lock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cluster cache lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("cluster cache lock: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("cluster cache lock: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
