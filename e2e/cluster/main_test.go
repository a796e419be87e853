package cluster_test

import (
	"os"
	"testing"

	"github.com/tether-ml/tether/e2e/cluster"
)

func TestMain(m *testing.M) { os.Exit(cluster.RunMain(m)) }
