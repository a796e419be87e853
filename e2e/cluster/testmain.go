package cluster

import (
	"context"
	"fmt"
	"os"
	"testing"
)

var shared *Cluster

// RunMain builds the binaries if needed, starts one cluster for the test
// package, runs its tests and stops the cluster. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(cluster.RunMain(m)) }
//
// A failed build or start fails the package with the reason on stderr.
func RunMain(m *testing.M) int {
	c, err := Start(context.Background(), Options{Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		return 1
	}
	shared = c
	code := m.Run()
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Shared returns the cluster RunMain started for this test package. It
// panics when TestMain does not call RunMain.
func Shared() *Cluster {
	if shared == nil {
		panic("cluster.Shared: no cluster; call cluster.RunMain from TestMain")
	}
	return shared
}
