package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tether-ml/tether/e2e/cluster"
)

// repoRoot is the tether repository this chart belongs to.
const repoRoot = "../../.."

var (
	// tetherBin is the binary under test, built once by TestMain in the
	// tether module itself, so it has that module's dependencies, not this one's.
	tetherBin string

	clusterOnce sync.Once
	clusterErr  error
	shared      *cluster.Cluster
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tether-chart-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	tetherBin = filepath.Join(dir, "tether")
	build := exec.Command("go", "build", "-o", tetherBin, "github.com/tether-ml/tether/cmd/tether")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build: the binary users run
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build tether:", err)
		return 1
	}
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "cluster:", err)
			code = max(code, 1)
		}
	}
	return code
}

// sharedCluster starts the package's local control plane on first use: the
// render tests need none.
func sharedCluster(t testing.TB) *cluster.Cluster {
	t.Helper()
	clusterOnce.Do(func() {
		shared, clusterErr = cluster.Start(context.Background(), cluster.Options{Log: os.Stderr})
	})
	if clusterErr != nil {
		t.Fatalf("local control plane: %v", clusterErr)
	}
	return shared
}
