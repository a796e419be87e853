package cluster

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

var (
	sharedOnce sync.Once
	shared     *Cluster
	sharedErr  error
)

// RunMain runs a test package whose tests share one cluster, started by the
// first test that calls Shared and stopped once every test finished. Tests
// that need no cluster (pure functions, table tests) run without one, so
// `go test -run Detect ./reconcile` takes a second. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(cluster.RunMain(m)) }
func RunMain(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "cluster:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Shared returns the package's cluster, building the binaries and starting
// it on first use. A failed build or start panics with the reason, failing
// the test that asked and the package: there is nothing to test without it.
func Shared() *Cluster {
	sharedOnce.Do(func() {
		shared, sharedErr = Start(context.Background(), Options{Log: os.Stderr})
	})
	if sharedErr != nil {
		panic("cluster: " + sharedErr.Error())
	}
	return shared
}
