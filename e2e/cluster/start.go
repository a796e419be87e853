package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options configures Start. The zero value starts a cluster in a temporary
// directory with binaries from Build and two fake nodes.
type Options struct {
	// Dir is the state dir for certificates, etcd data, logs, the pid file
	// and the admin kubeconfig. Empty means a new temporary directory, which
	// Stop removes. A given Dir is reused: its previous state is wiped.
	Dir string
	// BinDir holds the binaries and kwok stages; empty means Build's output.
	BinDir string
	// Nodes is the number of fake nodes; zero means 2.
	Nodes int
	// Detach starts the processes in their own session without a
	// parent-death signal, so they outlive the calling program. Down stops them.
	Detach bool
	// Log receives the go build output when BinDir is empty; nil discards it.
	Log io.Writer
}

// Cluster is a running control plane started by Start.
type Cluster struct {
	Dir        string // state dir
	BinDir     string // binaries, including kubectl
	Kubeconfig string // admin kubeconfig, Dir/kubeconfig
	// Config is an admin (system:masters) client config with QPS 1000 and
	// Burst 2000. It is shared: rest.CopyConfig it before changing it.
	Config *rest.Config
	// APIReady and Ready are how long Start took, from having the binaries,
	// until kube-apiserver answered /readyz and until the nodes were Ready.
	APIReady, Ready time.Duration

	opts    Options
	began   time.Time
	ownsDir bool
	pki     *pki
	ports   ports
	client  kubernetes.Interface
	procs   []*proc
	specs   map[Component]spawnSpec // how each component was started, for StartComponent
}

// Start starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// and kwok on free loopback ports and returns once the API server is ready
// and the fake nodes are Ready. If a process exits during start, the error
// carries the end of its log and every process started so far is stopped.
// Start refuses an Options.Dir whose previous cluster is still running.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	c, err := newCluster(ctx, opts)
	if err != nil {
		return nil, err
	}
	steps := []func(context.Context) error{
		c.startEtcd, c.startAPIServer, c.startControllers, c.addNodes, c.waitServiceAccount,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, c.abort(err)
		}
	}
	c.Ready = time.Since(c.began)
	return c, nil
}

// newCluster resolves the bin and state dirs and writes the PKI.
func newCluster(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Nodes == 0 {
		opts.Nodes = 2
	}
	binDir := opts.BinDir
	if binDir == "" {
		var err error
		if binDir, err = Build(ctx, opts.Log); err != nil {
			return nil, err
		}
	}
	began := time.Now()
	dir, owns, err := prepareDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, BinDir: binDir, Kubeconfig: kubeconfigPath(dir), opts: opts, began: began, ownsDir: owns,
		specs: map[Component]spawnSpec{}}
	if c.pki, err = newPKI(); err == nil {
		err = c.pki.write(filepath.Join(dir, "pki"))
	}
	if err != nil {
		return nil, c.abort(err)
	}
	return c, nil
}

// prepareDir makes the state dir, or wipes the state of a stopped cluster
// from a given one. It refuses a dir whose cluster is still running.
func prepareDir(dir string) (string, bool, error) {
	if dir == "" {
		dir, err := os.MkdirTemp("", "tether-cluster-")
		if err == nil {
			err = makeSubdirs(dir)
		}
		return dir, true, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false, err
	}
	running, err := Running(dir)
	if err != nil {
		return "", false, err
	}
	if running {
		return "", false, fmt.Errorf("cluster already running in %s", dir)
	}
	for _, name := range []string{"etcd", "pki", "logs", "kwok", pidFileName, "kubeconfig"} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return "", false, err
		}
	}
	return dir, false, makeSubdirs(dir)
}

func makeSubdirs(dir string) error {
	for _, name := range []string{"logs", "kwok"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops every process in reverse start order, SIGTERM first and SIGKILL
// after a grace period, then removes the state dir if Start created it.
// Calling Stop again does nothing.
func (c *Cluster) Stop() error {
	if err := stopAll(c.procs); err != nil {
		return fmt.Errorf("stop cluster in %s: %w", c.Dir, err)
	}
	c.procs = nil
	if c.ownsDir {
		return os.RemoveAll(c.Dir)
	}
	err := os.Remove(filepath.Join(c.Dir, pidFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// abort stops what a failed Start began. It keeps the state dir so the logs
// can be read, and names it in the error.
func (c *Cluster) abort(err error) error {
	c.ownsDir = false
	if stopErr := c.Stop(); stopErr != nil {
		err = errors.Join(err, stopErr)
	}
	return fmt.Errorf("start cluster (state in %s): %w", c.Dir, err)
}

// spawn starts one component and records it in the pid file.
func (c *Cluster) spawn(name string, args, env []string) error {
	p, err := startProc(c.Dir, name, filepath.Join(c.BinDir, name), args, env, c.opts.Detach)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	c.specs[Component(name)] = spawnSpec{args: args, env: env}
	return writePIDs(c.Dir, c.procs)
}
