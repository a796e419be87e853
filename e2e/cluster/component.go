package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Component names one process of the control plane, for StopComponent,
// StartComponent and RestartComponent: the fault suite (e2e/faults) takes
// them away and brings them back under a running daemon.
type Component string

// The components Start runs, in start order.
const (
	Etcd              Component = "etcd"
	APIServer         Component = "kube-apiserver"
	ControllerManager Component = "kube-controller-manager"
	Scheduler         Component = "kube-scheduler"
	Kwok              Component = "kwok"
)

// componentOrder is the start order; stopAll stops in reverse.
var componentOrder = []Component{Etcd, APIServer, ControllerManager, Scheduler, Kwok}

// spawnSpec is how a component was started, so it can be started again
// with the same arguments: the same ports and, for etcd, the same data.
type spawnSpec struct{ args, env []string }

// StopComponent stops one component (SIGTERM, then SIGKILL after 5 s) and
// leaves the others and every piece of state alone: etcd's data, the
// certificates and the ports stay, so StartComponent brings the same
// cluster back. Stopping a stopped component does nothing.
func (c *Cluster) StopComponent(name Component) error {
	i := slices.IndexFunc(c.procs, func(p *proc) bool { return p.name == string(name) })
	if i < 0 {
		if _, known := c.specs[name]; !known {
			return fmt.Errorf("stop %s: no such component", name)
		}
		return nil
	}
	if err := c.procs[i].stop(5 * time.Second); err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	c.procs = slices.Delete(c.procs, i, i+1)
	return writePIDs(c.Dir, c.procs)
}

// StartComponent starts a component StopComponent stopped, with the
// arguments it had, and waits until it serves again: etcd until it reports
// healthy, kube-apiserver until /readyz answers ok (both within a minute).
// The other components are started and not waited for. Starting a running
// component does nothing.
func (c *Cluster) StartComponent(ctx context.Context, name Component) error {
	spec, known := c.specs[name]
	if !known {
		return fmt.Errorf("start %s: no such component", name)
	}
	if slices.ContainsFunc(c.procs, func(p *proc) bool { return p.name == string(name) }) {
		return nil
	}
	if err := c.spawn(string(name), spec.args, spec.env); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	c.sortProcs()
	switch name {
	case Etcd:
		return c.waitFor(ctx, time.Minute, "etcd health", c.etcdHealthy)
	case APIServer:
		return c.waitFor(ctx, time.Minute, "kube-apiserver /readyz", c.apiReady)
	}
	return nil
}

// RestartComponent stops a component and starts it again (StopComponent,
// then StartComponent): kube-apiserver restarted under its clients.
func (c *Cluster) RestartComponent(ctx context.Context, name Component) error {
	if err := c.StopComponent(name); err != nil {
		return err
	}
	return c.StartComponent(ctx, name)
}

// sortProcs puts the processes back in start order, so Stop stops a
// restarted etcd after the API server, as it would the first one.
func (c *Cluster) sortProcs() {
	slices.SortStableFunc(c.procs, func(a, b *proc) int {
		return slices.Index(componentOrder, Component(a.name)) - slices.Index(componentOrder, Component(b.name))
	})
	_ = writePIDs(c.Dir, c.procs)
}
