package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tether-ml/tether/e2e/cluster"
)

// tetherBin is the binary under test, built once by TestMain.
var tetherBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tether-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tetherBin = filepath.Join(dir, "tether")
	build := exec.Command("go", "build", "-o", tetherBin, "github.com/tether-ml/tether/cmd/tether")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build: the binary users run
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build tether:", err)
		os.Exit(1)
	}
	code := cluster.RunMain(m)
	os.RemoveAll(dir)
	os.Exit(code)
}
