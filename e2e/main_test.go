package e2e

import (
	"fmt"
	"os"
	"testing"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/tetherproc"
)

// tetherBin is the binary under test, built once by TestMain.
var tetherBin string

func TestMain(m *testing.M) {
	bin, cleanup, err := tetherproc.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tetherBin = bin
	code := cluster.RunMain(m)
	cleanup()
	os.Exit(code)
}
