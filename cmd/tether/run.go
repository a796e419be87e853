package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
)

// runFlags are the flags of `tether run`.
type runFlags struct {
	repo, branch, path, interval, kubeconfig string
	defaultNamespace, drift, listen          string
	logFormat, logLevel, workDir             string
	inventoryNamespace, maxPrune             string
	memoryLimit                              string
	requireDigest, prune                     bool
	resync                                   time.Duration
	git                                      sourceFlags
	notify                                   notifyFlags
}

func parseRunFlags(args []string) (*runFlags, error) {
	f := &runFlags{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&f.repo, "repo", "", "models repository: https://, ssh://, git@host:path, file:// or a local path")
	fs.StringVar(&f.branch, "branch", "main", "branch to track")
	fs.StringVar(&f.path, "path", "", "subfolder of the repository holding models/")
	fs.StringVar(&f.interval, "interval", "1m", "poll period: a duration (30s) or @every <duration>")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster config)")
	fs.StringVar(&f.defaultNamespace, "default-namespace", "default", "namespace for models that name none")
	fs.StringVar(&f.drift, "drift", render.DriftRevert, "default drift mode: revert or report")
	fs.BoolVar(&f.requireDigest, "require-digest", false, "require images pinned by digest")
	fs.StringVar(&f.listen, "listen", ":8080", "address for /healthz and /readyz")
	fs.StringVar(&f.logFormat, "log-format", "auto", "auto, text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.workDir, "work-dir", "", "directory for the working clone (default: a temporary directory)")
	f.git.register(fs)
	f.notify.register(fs)
	fs.BoolVar(&f.prune, "prune", true, "delete objects that left Git")
	fs.StringVar(&f.maxPrune, "max-prune", "50%", "most deletions one revision may make: a share of managed objects (never blocking fewer than 10) or a count")
	fs.StringVar(&f.inventoryNamespace, "inventory-namespace", "", "namespace of the inventory ConfigMaps (default: --default-namespace)")
	fs.DurationVar(&f.resync, "resync", 10*time.Minute, "period of a full drift check of every object (0 disables)")
	fs.StringVar(&f.memoryLimit, "memory-limit", "192Mi", "soft limit for the Go heap (GOMEMLIMIT wins when set); 0 disables")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("run: unexpected argument %q", fs.Arg(0))
	}
	if f.repo == "" {
		return nil, usagef("run: --repo is required")
	}
	if f.drift != render.DriftRevert && f.drift != render.DriftReport {
		return nil, usagef("run: --drift %q: expected revert or report", f.drift)
	}
	if f.inventoryNamespace == "" {
		f.inventoryNamespace = f.defaultNamespace
	}
	if err := f.notify.check(); err != nil {
		return nil, err
	}
	return f, nil
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, usagef("run: no --kubeconfig given and not running in a cluster: %v", err)
		}
		return cfg, nil
	}
	if _, err := os.Stat(kubeconfig); err != nil {
		return nil, usagef("run: --kubeconfig %s: %v", kubeconfig, errors.Unwrap(err))
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, usagef("run: --kubeconfig %s: %v", kubeconfig, err)
	}
	// The local API server does its own flow control; don't throttle a reconciler
	// that applies one request per object.
	cfg.QPS, cfg.Burst = 200, 400
	return cfg, nil
}

func runCommand(ctx context.Context, args []string, stderr io.Writer) error {
	f, err := parseRunFlags(args)
	if err != nil {
		return err
	}
	schedule, interval, err := parseInterval(f.interval)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	if err := setMemoryLimit(f.memoryLimit); err != nil {
		return err
	}
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	workDir, cleanup, err := workDirectory(f.workDir)
	if err != nil {
		return err
	}
	defer cleanup()
	repo, err := newSource(f, workDir, log)
	if err != nil {
		return err
	}
	maxPrune, err := reconcile.ParsePruneLimit(f.maxPrune)
	if err != nil {
		return usagef("run: --max-prune %v", err)
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := reconcile.NewMetrics(registry)
	notifier, stopNotify, err := startNotify(ctx, &f.notify, log, registry)
	if err != nil {
		return err
	}
	defer stopNotify()
	cfg.Wrap(metrics.CountRequests)
	applier, err := reconcile.NewApplier(cfg)
	if err != nil {
		return err
	}
	opts := render.Options{DefaultNamespace: f.defaultNamespace, RequireDigest: f.requireDigest, DefaultDrift: f.drift}
	loop := reconcile.NewLoop(reconcile.Config{
		Source:    repo,
		Render:    func(dir string) (*render.Result, error) { return render.Repository(dir, opts) },
		Applier:   applier,
		Inventory: reconcile.NewInventory(applier, f.inventoryNamespace),
		Interval:  interval,
		Schedule:  schedule,
		Resync:    f.resync,
		Prune:     f.prune,
		MaxPrune:  maxPrune,
		Log:       log,
		Events:    teeSinks(logEvents(log), notifier),
		Metrics:   metrics,
	})
	hook, err := newWebhook(f, repo, loop.Wake, log)
	if err != nil {
		return err
	}
	srv, err := serve(f.listen, loop, registry, hook, log)
	if err != nil {
		return err
	}
	defer shutdown(srv)
	log.Info("tether started", "version", version, "repo", repo.URL(), "branch", f.branch, "interval", interval.String(), "listen", srv.Addr)
	err = loop.Run(ctx)
	log.Info("tether stopped")
	return err
}

func workDirectory(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o700)
	}
	tmp, err := os.MkdirTemp("", "tether-")
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// serve starts the health endpoints; a port already in use fails the start.
func serve(addr string, loop *reconcile.Loop, registry *prometheus.Registry, hook http.Handler, log *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	if hook != nil {
		mux.Handle("POST /hooks/git", hook)
	}
	mux.Handle("GET /status", loop.StatusHandler())
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !loop.Ready() {
			http.Error(w, "inventory not yet read", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usagef("run: --listen %s: %v", addr, err)
	}
	srv.Addr = ln.Addr().String()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server failed", "err", err)
		}
	}()
	return srv, nil
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

// setMemoryLimit makes the garbage collector keep the heap near limit instead
// of letting it double after the cold apply's peak; the live heap of 1000 models
// is under 100 MiB. GOMEMLIMIT, when set, is left alone.
func setMemoryLimit(limit string) error {
	if os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	q, err := resource.ParseQuantity(limit)
	if err != nil || q.Sign() < 0 {
		return usagef("run: --memory-limit %q: expected a quantity such as 192Mi", limit)
	}
	if q.IsZero() {
		return nil
	}
	debug.SetMemoryLimit(q.Value())
	return nil
}
