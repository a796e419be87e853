package reconcile

import (
	"os"
	"testing"

	"github.com/tether-ml/tether/e2e/cluster"
)

// TestMain starts one real local control plane for the package: apply, prune,
// inventory and drift are decided by the API server, never by a fake client.
func TestMain(m *testing.M) { os.Exit(cluster.RunMain(m)) }
