// Package notify turns reconcile events into messages people act on: Slack
// Block Kit messages and generic JSON webhooks.
//
// A Pipeline sits between the loop and the notifiers. Its Sink never blocks:
// it filters events (--notify-on), drops repeats of a failure within one
// revision, feeds the drift digest and offers each event to one bounded queue
// per notifier, counting what a full queue drops. Each queue batches events
// that arrive close together, sends at most one message per second and hands
// the batch to a Retrier, the one place that owns backoff, Retry-After,
// metrics and logging; the notifiers themselves (Slack, Webhook) make one
// HTTP attempt and classify the answer. Secret data and webhook URLs never
// appear in a message, an error or a log line. Of a preview environment's
// events, its creation and deletion are posted (category preview), and
// nothing of what happens inside it.
//
// It leaves out anything that needs a Slack token (threads, updates,
// reactions): incoming webhooks only. The Notifier interface lives here, with
// the queue and retrier that use it, not in reconcile.
//
//	slack := notify.NewSlack(notify.FileURL("/etc/tether/slack-url"), "prod")
//	p, _ := notify.NewPipeline(notify.Options{Cluster: "prod", Log: log, Registry: reg}, notify.Target{Name: "slack", Notifier: slack})
//	go p.Run(ctx); loopConfig.Events = p.Sink
package notify
