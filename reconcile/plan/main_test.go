package plan

import (
	"os"
	"testing"

	"github.com/tether-ml/tether/e2e/cluster"
)

// TestMain gives Live's tests a real local control plane, started by the
// first test that asks for it: the pure tests run without one.
func TestMain(m *testing.M) { os.Exit(cluster.RunMain(m)) }
