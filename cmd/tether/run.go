package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/notify"
	"github.com/tether-ml/tether/render"
)

// runFlags are the flags of `tether run`.
type runFlags struct {
	repo, branch, path, interval, kubeconfig string
	defaultNamespace, drift, listen          string
	logFormat, logLevel, workDir             string
	inventoryNamespace, maxPrune             string
	memoryLimit, instance                    string
	kubeQPS                                  float32
	kubeBurst                                int
	requireDigest, prune                     bool
	resync                                   time.Duration
	git                                      sourceFlags
	notify                                   notifyFlags
	ha                                       haFlags
	previews                                 previewFlags
	shard                                    shardFlags // scale.go
}

const runExample = `  # Track a branch over HTTPS
  tether run --repo https://git.example.com/ml/models.git --branch main --interval 1m \
    --kubeconfig ~/.kube/config --default-namespace ml

  # A token, push webhooks and signed commits
  tether run --repo https://git.example.com/ml/models.git --branch main --interval 5m \
    --git-username tether --git-password-file /etc/tether/git/token \
    --webhook-secret-file /etc/tether/webhook/secret --verify-commits --trusted-keys-file /etc/tether/keys

  # A tag over SSH
  tether run --repo git@github.com:ml/models.git --tag v1.2 \
    --git-ssh-key-file /etc/tether/git/id_ed25519 --git-known-hosts-file /etc/tether/git/known_hosts

  # Drift reports to Slack, with a digest on weekday mornings
  tether run --repo https://git.example.com/ml/models.git --slack-webhook-url-file /etc/tether/slack/url \
    --cluster-name prod --notify-on drift,failure,prune --digest-schedule "0 9 * * 1-5"

  # Preview environments for GitHub pull requests (GitLab: refs/merge-requests/*/head)
  tether run --repo https://github.com/ml/models.git --default-namespace ml \
    --preview-refs 'refs/pull/*/head' --preview-max 5 --preview-ttl 72h

  # The same settings from the environment
  TETHER_REPO=https://git.example.com/ml/models.git TETHER_INTERVAL="*/5 * * * *" tether run`

func newRunCommand() *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run --repo URL",
		Short: "Reconcile a models repository into the cluster (the daemon)",
		Long: `Run the daemon: poll the models repository (or wait for a push webhook), render every model,
server-side apply what changed, prune what left Git, and revert drift within a second.

An invalid model is reported and skipped; its live objects stay as last applied. A revision that
would delete more than --max-prune prunes nothing until tether.yaml sets allowMassPrune: true or
--max-prune is raised. On --listen tether serves /healthz, /readyz, /status, /metrics and, with
--webhook-secret-file, POST /hooks/git.`,
		Example: runExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return runDaemon(cmd.Context(), f, cmd.ErrOrStderr())
		},
	}
	f.register(cmd)
	return cmd
}

func (f *runFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.repo, "repo", "", "models repository `URL`: https://, http://, ssh://, git@host:path, file:// or a local path")
	fs.StringVar(&f.branch, "branch", "main", "branch to track (and, with --commit, to find the commit on)")
	f.git.registerRef(fs)
	fs.StringVar(&f.path, "path", "", "subfolder of the repository that holds models/; a revision without it is refused")
	fs.StringVar(&f.interval, "interval", "1m", "when to poll the remote: a duration (30s), @every <duration>, a descriptor such as @hourly, or a 5-field cron spec (*/5 * * * *, local time unless CRON_TZ=<zone>); failed fetches back off up to one period")
	f.git.registerAuth(fs)
	fs.StringVar(&f.workDir, "work-dir", "", "`DIR` for the working clone, created if missing (default: a temporary directory removed at exit)")
	setGroup(fs, groupGit, "repo", "branch", "tag", "commit", "path", "interval", "work-dir")
	fs.StringVar(&f.defaultNamespace, "default-namespace", "default", "namespace of models that name none (tether.yaml's defaultNamespace wins; it must exist)")
	fs.BoolVar(&f.requireDigest, "require-digest", false, "make models whose images are not pinned by @sha256: digest invalid (also on when tether.yaml sets requireDigest)")
	setGroup(fs, groupModels, "default-namespace", "require-digest")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` (default: the in-cluster service account)")
	fs.StringVar(&f.inventoryNamespace, "inventory-namespace", "", "namespace of the inventory ConfigMaps that record what tether applied (default: --default-namespace; it must exist)")
	fs.StringVar(&f.instance, "instance", "", "this daemon's identity, carried by its inventory records: it acts only on its own records (default: the repository's name and a digest of --repo, the ref and --path)")
	fs.Float32Var(&f.kubeQPS, "kube-api-qps", 200, "most requests per second to the API server, in or out of the cluster (API Priority and Fairness still applies)")
	fs.IntVar(&f.kubeBurst, "kube-api-burst", 400, "burst of requests to the API server above --kube-api-qps")
	setGroup(fs, groupCluster, "kubeconfig", "inventory-namespace", "instance", "kube-api-qps", "kube-api-burst")
	f.shard.register(fs)
	fs.StringVar(&f.drift, "drift", render.DriftRevert, "drift mode of models whose spec and tether.yaml set none: revert (re-apply at once) or report (only report)")
	fs.DurationVar(&f.resync, "resync", 10*time.Minute, "period of a full drift check of every managed object, from the watch cache (0 disables)")
	fs.BoolVar(&f.prune, "prune", true, "delete objects that left Git (--prune=false turns pruning off)")
	fs.StringVar(&f.maxPrune, "max-prune", "50%", "most deletions one revision may make: a share of the managed objects (never blocking fewer than 10 deletions) or a count; a revision over it prunes nothing")
	setGroup(fs, groupDrift, "drift", "resync", "prune", "max-prune")
	f.previews.register(fs)
	f.notify.register(fs)
	fs.StringVar(&f.listen, "listen", ":8080", "`ADDR` serving /healthz, /readyz, /status, /metrics and (with --webhook-secret-file) POST /hooks/git")
	fs.StringVar(&f.git.webhookSecretFile, "webhook-secret-file", "", "`FILE` holding the push webhook secret; enables POST /hooks/git (GitHub, GitLab or generic HMAC signatures; others get 401)")
	fs.StringVar(&f.memoryLimit, "memory-limit", "192Mi", "soft limit for the Go heap, so memory returns to it after a cold apply's peak (GOMEMLIMIT wins; 0 disables)")
	setGroup(fs, groupServer, "listen", "webhook-secret-file", "memory-limit")
	f.ha.register(fs)
	fs.StringVar(&f.logFormat, "log-format", "auto", "log format: auto (text on a terminal, json otherwise), text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "least severe level logged: debug, info, warn or error")
	setGroup(fs, groupLogging, "log-format", "log-level")
	f.complete(cmd)
}

// complete registers shell completion of the flags' values.
func (f *runFlags) complete(cmd *cobra.Command) {
	if err := cmd.MarkFlagRequired("repo"); err != nil {
		panic(err)
	}
	registerCompletion(cmd, "drift", completeWords(render.DriftRevert, render.DriftReport))
	registerCompletion(cmd, "log-format", completeWords("auto", "text", "json"))
	registerCompletion(cmd, "log-level", completeWords("debug", "info", "warn", "error"))
	registerCompletion(cmd, "notify-on", completeWords(notify.Categories...))
	_ = cmd.MarkFlagDirname("work-dir")
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if strings.HasSuffix(fl.Name, "-file") || fl.Name == "kubeconfig" {
			_ = cmd.MarkFlagFilename(fl.Name)
		}
	})
}

// check validates what the flags' types do not, and fills derived defaults.
func (f *runFlags) check() error {
	if f.drift != render.DriftRevert && f.drift != render.DriftReport {
		return usagef("run: --drift %q: expected revert or report", f.drift)
	}
	if f.inventoryNamespace == "" {
		f.inventoryNamespace = f.defaultNamespace
	}
	if f.instance != "" {
		if err := reconcile.ValidateInstance(f.instance); err != nil {
			return usagef("run: --instance %v", err)
		}
	}
	if f.kubeQPS <= 0 || f.kubeBurst <= 0 {
		return usagef("run: --kube-api-qps and --kube-api-burst must be positive")
	}
	if err := f.ha.check(); err != nil {
		return err
	}
	if err := f.previews.check(); err != nil {
		return err
	}
	if err := f.shard.check(f.instance); err != nil {
		return err
	}
	if len(f.previews.refs) > 0 && (f.shard.name != "" || f.shard.index != 0) {
		return usagef("run: --preview-refs: previews run on the daemon that takes the bundles (no --shard, or --shard-index 0)")
	}
	return f.notify.check()
}

// restConfig loads the client settings for the command named command, in
// the cluster or from kubeconfig, with the same request rate either way:
// client-go's default of 5 per second would starve 32 apply workers (issue
// 12). Mistakes are usage errors.
func restConfig(command, kubeconfig string, qps float32, burst int) (*rest.Config, error) {
	cfg, err := loadRESTConfig(command, kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = qps, burst
	return cfg, nil
}

func loadRESTConfig(command, kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, usagef("%s: no --kubeconfig given and not running in a cluster: %v", command, err)
		}
		return cfg, nil
	}
	if _, err := os.Stat(kubeconfig); err != nil {
		return nil, usagef("%s: --kubeconfig %s: %v", command, kubeconfig, errors.Unwrap(err))
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, usagef("%s: --kubeconfig %s: %v", command, kubeconfig, err)
	}
	return cfg, nil
}

// runDaemon wires source, render and reconcile and runs the loop until ctx ends.
func runDaemon(ctx context.Context, f *runFlags, stderr io.Writer) error {
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
	cfg, err := restConfig("run", f.kubeconfig, f.kubeQPS, f.kubeBurst)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return usagef("run: --listen %s: %v", f.listen, err)
	}
	defer ln.Close()
	identity := f.ha.identity(ln.Addr().String())
	cfg.UserAgent = userAgent(identity)
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
	// The notifications outlive ctx: the events of the last writes, made after
	// SIGTERM, still go out before the process ends.
	notifier, stopNotify, err := startNotify(context.WithoutCancel(ctx), &f.notify, log, registry)
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
	instance, group := f.shard.identity(f.instance, repo.URL(), repo.Ref(), f.path)
	lead, err := f.ha.leadership(cfg, instance, f.inventoryNamespace, identity)
	if err != nil {
		return err
	}
	events := teeSinks(logEvents(log), notifier)
	// Preview environments (issue 13): nothing without --preview-refs.
	previews, err := newPreviews(f, workDir, applier, instance, opts, interval, schedule, log, events, leaderOf(lead))
	if err != nil {
		return err
	}
	loop := reconcile.NewLoop(reconcile.Config{
		Source:       repo,
		Render:       previews.render(incrementalRenderer(opts, f.shard.selection())),
		Applier:      applier,
		Inventory:    reconcile.NewInventory(applier, f.inventoryNamespace, instance).InGroup(group),
		Leader:       leaderOf(lead),
		RecordEvents: f.ha.recordEvents,
		Interval:     interval,
		Schedule:     schedule,
		Resync:       f.resync,
		Prune:        f.prune,
		MaxPrune:     maxPrune,
		Log:          log,
		Events:       events,
		Metrics:      metrics,
	})
	hook, err := newWebhook(f, repo, loop.Wake, previews.wake, log)
	if err != nil {
		return err
	}
	srv := serve(ln, endpoints{loop: loop, status: previews.status(loop), lead: lead, instance: instance, registry: registry, hook: hook}, log)
	defer shutdown(srv)
	log.Info("tether started", "version", version, "instance", instance, "identity", identity, "leaderElect", lead != nil,
		"repo", repo.URL(), "branch", f.branch, "interval", interval.String(), "listen", srv.Addr)
	reconcileAll := func(ctx context.Context) error {
		stopPreviews := previews.run(ctx)
		defer stopPreviews()
		return loop.Run(ctx)
	}
	if lead != nil {
		err = lead.Run(ctx, log, reconcileAll) // standby until it leads
	} else {
		err = reconcileAll(ctx)
	}
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

// endpoints are what --listen serves.
type endpoints struct {
	loop     *reconcile.Loop
	status   http.Handler          // /status: the loop's, with the previews
	lead     *reconcile.Leadership // nil without --leader-elect
	instance string
	registry *prometheus.Registry
	hook     http.Handler // nil without --webhook-secret-file
}

// serve serves the HTTP endpoints on ln. A standby is ready (it waits to
// lead), says who leads on /status and forwards webhooks to the leader.
func serve(ln net.Listener, e endpoints, log *slog.Logger) *http.Server {
	status, hook := e.status, e.hook
	if e.lead != nil {
		status = e.lead.StatusHandler(e.instance, status)
		if hook != nil {
			hook = e.lead.Forward(hook)
		}
	}
	mux := http.NewServeMux()
	if hook != nil {
		mux.Handle("POST /hooks/git", hook)
	}
	mux.Handle("GET /status", status)
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if e.lead != nil && !e.lead.Leading() {
			fmt.Fprintln(w, "ok: standby")
			return
		}
		if err := e.loop.Ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	// Timeouts bound what a slow or idle client can hold: a webhook body of
	// up to 10 MiB has 30 s to arrive, an answer 60 s to leave (issue 11).
	srv := &http.Server{Addr: ln.Addr().String(), Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server failed", "err", err)
		}
	}()
	return srv
}

// leaderOf is lead as the loop's Leader: none without leader election (not
// a nil *Leadership in an interface).
func leaderOf(lead *reconcile.Leadership) reconcile.Leader {
	if lead == nil {
		return nil
	}
	return lead
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
