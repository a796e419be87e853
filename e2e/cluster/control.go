package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
)

// startEtcd starts etcd and waits until it reports healthy.
func (c *Cluster) startEtcd(ctx context.Context) error {
	return c.retryPorts(func() error {
		pt, err := freePorts(2)
		if err != nil {
			return err
		}
		c.ports.etcdClient, c.ports.etcdPeer = pt[0], pt[1]
		if err := os.RemoveAll(filepath.Join(c.Dir, "etcd")); err != nil {
			return err
		}
		if err := c.spawn("etcd", etcdArgs(c.Dir, c.ports), nil); err != nil {
			return err
		}
		return c.waitFor(ctx, 30*time.Second, "etcd health", c.etcdHealthy)
	})
}

// startAPIServer writes the kubeconfigs for the chosen port, starts
// kube-apiserver and waits for /readyz.
func (c *Cluster) startAPIServer(ctx context.Context) error {
	return c.retryPorts(func() error {
		pt, err := freePorts(1)
		if err != nil {
			return err
		}
		c.ports.apiserver = pt[0]
		if err := c.writeKubeconfigs(); err != nil {
			return err
		}
		if err := writeAuditPolicy(c.Dir); err != nil {
			return err
		}
		if err := c.spawn("kube-apiserver", apiserverArgs(c.Dir, c.ports), nil); err != nil {
			return err
		}
		if err := c.waitFor(ctx, 60*time.Second, "kube-apiserver /readyz", c.apiReady); err != nil {
			return err
		}
		c.APIReady = time.Since(c.began)
		return nil
	})
}

// writeKubeconfigs writes the admin kubeconfig and those of the controller
// manager and scheduler, and sets Config and the admin client.
func (c *Cluster) writeKubeconfigs() error {
	server, ca := c.ports.apiserverURL(), c.pki.ca.cert
	c.Config = restConfig(server, ca, c.pki.admin)
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	c.client = client
	return errors.Join(
		writeKubeconfig(c.Kubeconfig, server, ca, c.pki.admin),
		writeKubeconfig(pkiPath(c.Dir, "controller-manager.kubeconfig"), server, ca, c.pki.controllerMgr),
		writeKubeconfig(pkiPath(c.Dir, "scheduler.kubeconfig"), server, ca, c.pki.scheduler),
	)
}

// startControllers starts the controller manager, the scheduler and kwok.
// They serve no ports, so they cannot collide with another cluster.
func (c *Cluster) startControllers(context.Context) error {
	components := []struct {
		name      string
		args, env []string
	}{
		{"kube-controller-manager", controllerManagerArgs(c.Dir), nil},
		{"kube-scheduler", schedulerArgs(c.Dir), nil},
		{"kwok", kwokArgs(c.Dir, c.BinDir), kwokEnv(c.Dir)},
	}
	for _, comp := range components {
		if err := c.spawn(comp.name, comp.args, comp.env); err != nil {
			return err
		}
	}
	return nil
}

// StopControllers stops the controller manager, the scheduler and kwok and
// leaves etcd and the API server running: a benchmark measures a client
// against the API server alone with it. Nothing reacts to objects afterwards
// (no pods, no status), so readiness never comes.
func (c *Cluster) StopControllers() error {
	var keep, stop []*proc
	for _, p := range c.procs {
		switch p.name {
		case "kube-controller-manager", "kube-scheduler", "kwok":
			stop = append(stop, p)
		default:
			keep = append(keep, p)
		}
	}
	if err := stopAll(stop); err != nil {
		return fmt.Errorf("stop controllers in %s: %w", c.Dir, err)
	}
	c.procs = keep
	return nil
}

// retryPorts runs attempt up to three times while it fails because a port
// picked as free was taken before the process bound it.
func (c *Cluster) retryPorts(attempt func() error) error {
	var err error
	for range 3 {
		if err = attempt(); !errors.Is(err, errPortInUse) {
			return err
		}
		c.dropExited()
	}
	return fmt.Errorf("after 3 attempts: %w", err)
}

// dropExited forgets processes that have exited, such as one that lost a
// port race, so the pid file lists only live ones.
func (c *Cluster) dropExited() {
	live := c.procs[:0]
	for _, p := range c.procs {
		if p.alive() {
			live = append(live, p)
		}
	}
	c.procs = live
	_ = writePIDs(c.Dir, c.procs)
}
