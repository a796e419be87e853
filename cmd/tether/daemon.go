package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/client-go/rest"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// daemon is what `tether run` wires together: source, render, reconcile,
// notifications, previews, leader election and the HTTP endpoints.
type daemon struct {
	f        *runFlags
	log      *slog.Logger
	schedule source.Schedule
	interval time.Duration
	cfg      *rest.Config
	ln       net.Listener
	identity string
	workDir  string
	repo     *source.Repo
	registry *prometheus.Registry
	metrics  *reconcile.Metrics
	closers  []func()
}

// runDaemon wires source, render and reconcile and runs the loop until ctx
// ends (as a standby first, with --leader-elect).
func runDaemon(ctx context.Context, f *runFlags, stderr io.Writer) error {
	d := &daemon{f: f, registry: prometheus.NewRegistry()}
	defer d.close()
	if err := d.prepare(stderr); err != nil {
		return err
	}
	// The notifications outlive ctx: the events of the last writes, made
	// after SIGTERM, still go out before the process ends.
	notifier, stopNotify, err := startNotify(context.WithoutCancel(ctx), &f.notify, d.log, d.registry)
	if err != nil {
		return err
	}
	d.closers = append(d.closers, stopNotify)
	return d.run(ctx, notifier)
}

// prepare reads the settings that can fail before anything runs: the poll
// schedule, the logger, the memory limit, the client, the listener, the work
// dir and the Git source.
func (d *daemon) prepare(stderr io.Writer) error {
	f := d.f
	var err error
	if d.schedule, d.interval, err = parseInterval(f.interval); err != nil {
		return err
	}
	if d.log, err = newLogger(stderr, f.logFormat, f.logLevel); err != nil {
		return err
	}
	if err := setMemoryLimit(f.memoryLimit); err != nil {
		return err
	}
	if d.cfg, err = restConfig("run", f.kubeconfig, f.kubeQPS, f.kubeBurst); err != nil {
		return err
	}
	if d.ln, err = net.Listen("tcp", f.listen); err != nil {
		return usagef("run: --listen %s: %v", f.listen, err)
	}
	d.closers = append(d.closers, func() { d.ln.Close() })
	d.identity = f.ha.identity(d.ln.Addr().String())
	d.cfg.UserAgent = userAgent(d.identity)
	dir, cleanup, err := workDirectory(f.workDir)
	if err != nil {
		return err
	}
	d.workDir, d.closers = dir, append(d.closers, cleanup)
	d.repo, err = newSource(f, d.workDir, d.log)
	return err
}

// run builds the loop, the previews and the election, serves the endpoints
// and reconciles until ctx ends.
func (d *daemon) run(ctx context.Context, notifier reconcile.Sink) error {
	d.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d.metrics = reconcile.NewMetrics(d.registry)
	d.cfg.Wrap(d.metrics.CountRequests)
	applier, err := reconcile.NewApplier(d.cfg)
	if err != nil {
		return err
	}
	f := d.f
	instance, group := f.shard.identity(f.instance, d.repo.URL(), d.repo.Ref(), f.path)
	lead, err := f.ha.leadership(d.cfg, instance, f.inventoryNamespace, d.identity)
	if err != nil {
		return err
	}
	events := teeSinks(logEvents(d.log), notifier)
	opts := render.Options{DefaultNamespace: f.defaultNamespace, RequireDigest: f.requireDigest, DefaultDrift: f.drift}
	// Preview environments (issue 13): nothing without --preview-refs.
	previews, err := newPreviews(f, d.workDir, applier, instance, opts, d.interval, d.schedule, d.log, events, leaderOf(lead))
	if err != nil {
		return err
	}
	loop, err := d.loop(applier, instance, group, lead, events, previews.render(incrementalRenderer(opts, f.shard.selection())))
	if err != nil {
		return err
	}
	hook, err := newWebhook(f, d.repo, loop.Wake, previews.wake, d.log)
	if err != nil {
		return err
	}
	srv := serve(d.ln, endpoints{loop: loop, status: previews.status(loop), lead: lead, instance: instance, registry: d.registry, hook: hook}, d.log)
	defer shutdown(srv)
	d.log.Info("tether started", "version", version, "instance", instance, "identity", d.identity, "leaderElect", lead != nil,
		"repo", d.repo.URL(), "branch", f.branch, "interval", d.interval.String(), "listen", srv.Addr)
	err = reconcileAll(ctx, d.log, lead, func(ctx context.Context) error {
		stopPreviews := previews.run(ctx)
		defer stopPreviews()
		return loop.Run(ctx)
	})
	d.log.Info("tether stopped")
	return err
}

// loop is the tracked branch's reconcile loop.
func (d *daemon) loop(applier *reconcile.Applier, instance, group string, lead *reconcile.Leadership, events reconcile.Sink, renderer reconcile.Renderer) (*reconcile.Loop, error) {
	f := d.f
	maxPrune, err := reconcile.ParsePruneLimit(f.maxPrune)
	if err != nil {
		return nil, usagef("run: --max-prune %v", err)
	}
	return reconcile.NewLoop(reconcile.Config{
		Source: d.repo, Render: renderer, Applier: applier,
		Inventory: reconcile.NewInventory(applier, f.inventoryNamespace, instance).InGroup(group),
		Leader:    leaderOf(lead), RecordEvents: f.ha.recordEvents,
		Interval: d.interval, Schedule: d.schedule, Resync: f.resync,
		Prune: f.prune, MaxPrune: maxPrune,
		Log: d.log, Events: events, Metrics: d.metrics,
	}), nil
}

// reconcileAll runs work, waiting to lead first with --leader-elect.
func reconcileAll(ctx context.Context, log *slog.Logger, lead *reconcile.Leadership, work func(context.Context) error) error {
	if lead != nil {
		return lead.Run(ctx, log, work)
	}
	return work(ctx)
}

// close undoes prepare and stops the notifications, last started first.
func (d *daemon) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}
