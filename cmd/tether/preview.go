package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/preview"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// previewFlags are the flags of `tether run` for preview environments
// (issue 13).
type previewFlags struct {
	refs []string
	max  int
	ttl  time.Duration
}

func (p *previewFlags) register(fs *pflag.FlagSet) {
	fs.StringSliceVar(&p.refs, "preview-refs", nil, "deploy each ref matching a `GLOB` as a preview environment in <namespace>-pr-<id> (repeatable or comma-separated; one * standing for the id, e.g. refs/pull/*/head, refs/merge-requests/*/head, refs/heads/preview/*)")
	fs.IntVar(&p.max, "preview-max", 5, "most preview environments at once; the lowest ids win, the rest are reported")
	fs.DurationVar(&p.ttl, "preview-ttl", 72*time.Hour, "tear a preview down when its ref has had no new commit for this long (0: never)")
	setGroup(fs, groupPreviews, "preview-refs", "preview-max", "preview-ttl")
}

func (p *previewFlags) check() error {
	for _, r := range p.refs {
		if err := source.CheckRefPattern(r); err != nil {
			return usagef("run: --preview-refs: %v", err)
		}
	}
	if p.max < 0 || p.ttl < 0 {
		return usagef("run: --preview-max and --preview-ttl must not be negative")
	}
	return nil
}

// previewWiring is what runDaemon needs to run previews next to the loop.
type previewWiring struct {
	manager  *preview.Manager // nil without --preview-refs
	instance string
	opts     render.Options
}

// newPreviews builds the preview manager, or an empty wiring without
// --preview-refs. Its clone and checkouts live in <work-dir>/previews.
func newPreviews(f *runFlags, workDir string, applier *reconcile.Applier, instance string, opts render.Options,
	interval time.Duration, schedule source.Schedule, log *slog.Logger, events reconcile.Sink, leader reconcile.Leader) (*previewWiring, error) {
	w := &previewWiring{instance: instance, opts: opts}
	if len(f.previews.refs) == 0 {
		return w, nil
	}
	dir := filepath.Join(workDir, "previews")
	refs, err := source.NewRefSet(source.Options{
		URL: f.repo, Path: f.path, WorkDir: dir, Auth: f.git.auth(),
		VerifyCommits: f.git.verifyCommits, TrustedKeysFile: f.git.trustedKeysFile,
	}, f.previews.refs)
	if err != nil {
		return nil, usagef("run: --preview-refs: %v", err)
	}
	w.manager = preview.New(preview.Config{
		Refs: refs, Applier: applier, InventoryNamespace: f.inventoryNamespace, Instance: instance, Flags: opts,
		Max: f.previews.max, TTL: f.previews.ttl, Interval: interval, Schedule: schedule, Resync: f.resync,
		WorkDir: dir, Log: log, Events: events, Leader: leader, RecordEvents: f.ha.recordEvents,
	})
	return w, nil
}

// render wraps the tracked branch's renderer; with previews, each successful
// render hands its settings to the preview manager, the only source of
// preview settings.
func (w *previewWiring) render(base reconcile.Renderer) reconcile.Renderer {
	return func(snap source.Snapshot, hooks render.Hooks) (*render.Result, error) {
		res, err := base(snap, hooks)
		if err == nil && w.manager != nil {
			w.manager.SetSettings(res.Settings)
		}
		return res, err
	}
}

// run starts the manager until ctx ends or stop is called; stop returns
// once the manager stopped its previews (their records saved).
func (w *previewWiring) run(ctx context.Context) (stop func()) {
	if w.manager == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.manager.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// wake asks the manager for a listing now, after a push webhook.
func (w *previewWiring) wake() {
	if w.manager != nil {
		w.manager.Wake()
	}
}

// statusDoc is /status: the loop's status and, with previews, the previews.
type statusDoc struct {
	reconcile.Status
	Previews []preview.Status `json:"previews"`
}

// status serves /status.
func (w *previewWiring) status(loop *reconcile.Loop) http.Handler {
	if w.manager == nil {
		return loop.StatusHandler()
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(rw)
		enc.SetIndent("", "  ")
		_ = enc.Encode(statusDoc{Status: loop.Status(), Previews: w.manager.Status()})
	})
}
