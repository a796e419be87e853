package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/notify"
)

// notifyFlags are the Slack and webhook flags of `tether run`.
type notifyFlags struct {
	slackURLFile, webhookURLFile string
	cluster, on, digestSchedule  string
	success                      bool
	batchWindow                  time.Duration
}

func (n *notifyFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&n.slackURLFile, "slack-webhook-url-file", "", "`FILE` holding a Slack incoming-webhook URL (a mounted Secret; never logged; re-read when it changes)")
	fs.StringVar(&n.webhookURLFile, "webhook-url-file", "", "`FILE` holding the URL of a generic webhook that receives the same events as JSON")
	fs.StringVar(&n.cluster, "cluster-name", "", "name of this cluster in every message")
	fs.StringVar(&n.on, "notify-on", strings.Join(notify.Categories, ","), "events to post: a comma-separated list of drift, failure (sync failures, invalid models, failed fetches, unverified commits), prune (blocked mass deletions), preview (preview environments created, deleted or left out) and held (revisions a sync window holds back)")
	fs.BoolVar(&n.success, "notify-success", false, "also post a summary of each applied revision")
	fs.StringVar(&n.digestSchedule, "digest-schedule", "", `5-field cron schedule (robfig/cron: CRON_TZ= and @daily work) of a digest of drift per model and the most changed objects, e.g. "0 9 * * 1-5" (default: no digest)`)
	fs.DurationVar(&n.batchWindow, "notify-batch-window", 5*time.Second, "longest time events are collected into one message")
	setGroup(fs, groupNotifications, "slack-webhook-url-file", "webhook-url-file", "cluster-name", "notify-on", "notify-success",
		"digest-schedule", "notify-batch-window")
}

// check validates the flags; the URL files are read when the daemon starts.
func (n *notifyFlags) check() error {
	if _, err := notify.ParseCategories(n.categories()); err != nil {
		return usagef("run: --%v", err)
	}
	if n.batchWindow <= 0 {
		return usagef("run: --notify-batch-window %s: expected a positive duration", n.batchWindow)
	}
	if (n.digestSchedule != "" || n.success) && n.slackURLFile == "" && n.webhookURLFile == "" {
		return usagef("run: --digest-schedule and --notify-success need --slack-webhook-url-file or --webhook-url-file")
	}
	return nil
}

func (n *notifyFlags) categories() []string {
	if strings.TrimSpace(n.on) == "" {
		return nil
	}
	return strings.Split(n.on, ",")
}

// targets builds one notifier per configured URL file, reading each once so
// that a missing or malformed file stops the start.
func (n *notifyFlags) targets() ([]notify.Target, error) {
	var out []notify.Target
	for _, t := range []struct {
		flag, path, name string
		build            func(notify.Endpoint, string) notify.Notifier
	}{
		{"slack-webhook-url-file", n.slackURLFile, "slack", func(e notify.Endpoint, c string) notify.Notifier { return notify.NewSlack(e, c) }},
		{"webhook-url-file", n.webhookURLFile, "webhook", func(e notify.Endpoint, c string) notify.Notifier { return notify.NewWebhook(e, c) }},
	} {
		if t.path == "" {
			continue
		}
		ep := notify.FileURL(t.path)
		if _, err := ep.URL(); err != nil {
			return nil, usagef("run: --%s: %v", t.flag, err)
		}
		out = append(out, notify.Target{Name: t.name, Notifier: t.build(ep, n.cluster)})
	}
	return out, nil
}

// startNotify starts the notification pipeline the flags describe. It returns
// the pipeline's sink (nil when no webhook is configured) and a stop function
// that waits until pending messages were delivered or given up.
func startNotify(ctx context.Context, n *notifyFlags, log *slog.Logger, reg prometheus.Registerer) (reconcile.Sink, func(), error) {
	targets, err := n.targets()
	if err != nil || len(targets) == 0 {
		return nil, func() {}, err
	}
	p, err := notify.NewPipeline(notify.Options{
		Cluster: n.cluster, On: n.categories(), Success: n.success, DigestSchedule: n.digestSchedule,
		Queue: notify.QueueOptions{Window: n.batchWindow}, Log: log, Registry: reg,
	}, targets...)
	if err != nil {
		return nil, nil, usagef("run: %v", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	return p.Sink, func() { cancel(); <-done }, nil
}

// teeSinks returns a sink that hands every event to each non-nil sink.
func teeSinks(sinks ...reconcile.Sink) reconcile.Sink {
	var out []reconcile.Sink
	for _, s := range sinks {
		if s != nil {
			out = append(out, s)
		}
	}
	return func(ev reconcile.Event) {
		for _, s := range out {
			s(ev)
		}
	}
}
