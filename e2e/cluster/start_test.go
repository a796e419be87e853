package cluster_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/cluster"
)

// TestSecondCluster starts a cluster beside the shared one: ports must not
// collide, and Stop must leave no process and no state dir behind.
func TestSecondCluster(t *testing.T) {
	c, err := cluster.Start(t.Context(), cluster.Options{BinDir: cluster.Shared().BinDir, Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second cluster: time to API ready %s, to nodes Ready %s", c.APIReady, c.Ready)
	if c.Config.Host == cluster.Shared().Config.Host {
		t.Errorf("both clusters serve on %s", c.Config.Host)
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Errorf("server version: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir %s after Stop: %v", c.Dir, err)
	}
	if _, err := cs.Discovery().ServerVersion(); err == nil {
		t.Error("API server still answers after Stop")
	}
}

// TestDetachedDown starts a detached cluster in a given dir and stops it
// through its pid file, as the localcluster command does.
func TestDetachedDown(t *testing.T) {
	dir := t.TempDir()
	c, err := cluster.Start(t.Context(), cluster.Options{Dir: dir, BinDir: cluster.Shared().BinDir, Nodes: 1, Detach: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Down(dir) })
	if _, err := cluster.Start(t.Context(), cluster.Options{Dir: dir, BinDir: c.BinDir}); err == nil {
		t.Error("second Start in a running dir succeeded")
	}
	if running, err := cluster.Running(dir); !running || err != nil {
		t.Errorf("Running = %v, %v; want true", running, err)
	}
	if err := cluster.Down(dir); err != nil {
		t.Fatal(err)
	}
	if running, err := cluster.Running(dir); running || err != nil {
		t.Errorf("Running after Down = %v, %v; want false", running, err)
	}
}

// TestBuildCached checks that a Build with nothing changed only finds the
// cache: it must not run the go command.
func TestBuildCached(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no go command to run
	began := time.Now()
	binDir, err := cluster.Build(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if binDir != cluster.Shared().BinDir {
		t.Errorf("Build = %s, want %s", binDir, cluster.Shared().BinDir)
	}
	t.Logf("cached Build took %s", time.Since(began))
}

// BenchmarkStart measures a full start with cached binaries and reports the
// time until the API server is ready.
func BenchmarkStart(b *testing.B) {
	binDir, err := cluster.Build(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	var apiReady float64
	for b.Loop() {
		c, err := cluster.Start(context.Background(), cluster.Options{BinDir: binDir})
		if err != nil {
			b.Fatal(err)
		}
		apiReady += c.APIReady.Seconds()
		if err := c.Stop(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(apiReady/float64(b.N), "s-to-api-ready/op")
}
