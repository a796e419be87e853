//go:build faults

package faults

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/slackrecv"
)

// TestSlackFailing: Slack answers 429 (Retry-After: 5) and 500 in turn for
// -slack-outage while Deployments drift every 5 s and a commit arrives.
// Reconciliation must not wait for Slack; Retry-After must be honoured;
// retries must keep to the README's limits (5 attempts within 2 minutes, at
// most a message a second); and every drift must be delivered or counted
// as given up (tether_notify_messages_failed_total) or dropped
// (tether_notify_events_dropped_total): none lost without a count.
func TestSlackFailing(t *testing.T) {
	f := newFixture(t, "faults-slack")
	r := newResult(t, "Slack failing",
		fmt.Sprintf("Slack answered 429 (Retry-After: 5) and 500 in turn for %s; a Deployment drifted every 5 s before, during and after; a commit arrived during the outage (--interval 10s)", *slackOutage))
	slack := slackrecv.New(t)
	urlFile := filepath.Join(t.TempDir(), "slack-url")
	if err := os.WriteFile(urlFile, []byte(slack.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.repo.Commit(modelFiles("m", 10, 2))
	d := startDaemon(t, f.args("--interval", "10s", "--slack-webhook-url-file", urlFile, "--cluster-name", "faults")...)
	d.reconciled(t, 0, f.repo.Head(), 3*time.Minute)
	before := f.converged(t, time.Minute)

	drifts := &driftLog{ns: f.ns}
	quiet := drifts.run(t, f.k, 6, 5*time.Second)
	began := time.Now()
	end := began.Add(*slackOutage)
	slack.Respond(slackrecv.Outage(end, "5"))
	mark := d.Mark()
	var during []time.Duration
	var head string
	for time.Now().Before(end) {
		if head == "" && time.Since(began) > *slackOutage/2 {
			head = f.repo.Commit(map[string]string{"models/m001/model.yaml": modelYAML("m001", 3)})
		}
		during = append(during, drifts.run(t, f.k, 1, 5*time.Second)...)
	}
	d.reconciled(t, mark, head, time.Minute)
	after := drifts.run(t, f.k, 6, 5*time.Second)
	f.waitDrained(t, d, slack)
	f.account(t, r, before, time.Minute)

	acc := drifts.account(slack.History())
	sent, failed := d.metric(t, "tether_notify_messages_sent_total", "notifier=slack"), d.metric(t, "tether_notify_messages_failed_total", "notifier=slack")
	retries, dropped := d.metric(t, "tether_notify_retries_total", "notifier=slack"), d.metric(t, "tether_notify_events_dropped_total", "notifier=slack")
	if acc.givenUp != int(failed) {
		t.Errorf("%d messages never delivered, tether_notify_messages_failed_total says %v", acc.givenUp, failed)
	}
	if unaccounted := acc.neverSent - int(dropped); unaccounted > 0 {
		t.Errorf("%d drifts never sent to Slack, only %v counted as dropped", acc.neverSent, dropped)
		r.lost += unaccounted
	}
	checks := checkRetries(slack.History())
	for _, problem := range checks.problems {
		t.Error(problem)
	}
	r.tether("kept reverting drift (before %s; during %s; after %s) and applied the commit during the outage", latencies(quiet), latencies(during), latencies(after))
	r.tether("%d drifts: %d delivered, %d in %d messages given up after their retries (tether_notify_messages_failed_total %v), %d dropped (tether_notify_events_dropped_total %v), 0 lost uncounted",
		len(drifts.items), acc.delivered, acc.inGivenUp, acc.givenUp, failed, acc.neverSent, dropped)
	r.figure("%d requests to Slack (%d answered 429, %d 500); messages sent %v, retries %v; at most %d attempts per message, over at most %s; shortest wait after a 429: %s, between requests: %s",
		checks.requests, checks.byStatus[429], checks.byStatus[500], sent, retries, checks.maxAttempts, checks.maxSpan.Round(time.Second), checks.minAfter429.Round(10*time.Millisecond), checks.minGap.Round(10*time.Millisecond))
	r.figure("%d notification failed log lines", len(d.Find(mark, "notification failed", nil)))
}

// driftLog drifts Deployments m002..m009 in turn, each time to a replica
// count no other drift used, so a Slack message names the drift it reports.
type driftLog struct {
	ns    string
	items []string // "Deployment NS/NAME" and "→ `N`" of each drift, joined by a tab
}

// run makes n drifts, gap apart, and returns their revert latencies.
func (l *driftLog) run(t *testing.T, k *kube, n int, gap time.Duration) []time.Duration {
	t.Helper()
	var lat []time.Duration
	for range n {
		i := len(l.items)
		name, replicas := fmt.Sprintf("m%03d", 2+i%8), int32(10+i)
		d, err := k.drift(t.Context(), l.ns, name, 2, replicas, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		lat = append(lat, d)
		l.items = append(l.items, fmt.Sprintf("Deployment %s/%s\t→ `%d`", l.ns, name, replicas))
		time.Sleep(gap)
	}
	return lat
}

// driftAccount says what became of the drifts in Slack.
type driftAccount struct {
	delivered, inGivenUp, neverSent int
	givenUp                         int // distinct messages never answered 200
}

func (l *driftLog) account(history []slackrecv.Attempt) driftAccount {
	var acc driftAccount
	var ok, failedBodies [][]byte
	for _, a := range history {
		if a.Status == 200 {
			ok = append(ok, a.Message.Raw)
		} else {
			failedBodies = append(failedBodies, a.Message.Raw)
		}
	}
	var givenUp []string
	for _, body := range failedBodies {
		if !containsBody(ok, body) && !containsString(givenUp, string(body)) {
			givenUp = append(givenUp, string(body))
		}
	}
	acc.givenUp = len(givenUp)
	for _, item := range l.items {
		switch {
		case mentions(ok, item):
			acc.delivered++
		case mentions(toBytes(givenUp), item):
			acc.inGivenUp++
		default:
			acc.neverSent++
		}
	}
	return acc
}

// mentions: one of the messages names the drift's object and its live
// value, which no other drift had.
func mentions(bodies [][]byte, item string) bool {
	object, value, _ := strings.Cut(item, "\t")
	for _, b := range bodies {
		if msg, err := slackrecv.Validate(b); err == nil {
			text := msg.Render()
			if strings.Contains(text, object) && strings.Contains(text, value) {
				return true
			}
		}
	}
	return false
}

func containsBody(bodies [][]byte, b []byte) bool {
	for _, x := range bodies {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func toBytes(xs []string) [][]byte {
	out := make([][]byte, len(xs))
	for i, x := range xs {
		out[i] = []byte(x)
	}
	return out
}

// waitDrained waits until Slack got no request for 15 s and tether's queue
// is empty: everything tether will ever send was sent.
func (f *fixture) waitDrained(t *testing.T, d *daemon, slack *slackrecv.Receiver) {
	t.Helper()
	eventually(t, 5*time.Minute, "Slack deliveries settled", func() (bool, error) {
		h := slack.History()
		quiet := len(h) == 0 || time.Since(h[len(h)-1].Time) > 15*time.Second
		return quiet && d.metric(t, "tether_notify_queue_length", "notifier=slack") == 0, nil
	})
}

// retryChecks is what the requests to Slack show about retries.
type retryChecks struct {
	requests            int
	byStatus            map[int]int
	maxAttempts         int           // requests with the same payload
	maxSpan             time.Duration // from a payload's first request to its last
	minAfter429, minGap time.Duration
	problems            []string
}

// checkRetries checks the README's limits on the requests Slack received.
func checkRetries(history []slackrecv.Attempt) retryChecks {
	c := retryChecks{requests: len(history), byStatus: map[int]int{}, minAfter429: time.Hour, minGap: time.Hour}
	first := map[string]time.Time{}
	count := map[string]int{}
	for i, a := range history {
		c.byStatus[a.Status]++
		body := string(a.Message.Raw)
		if _, seen := first[body]; !seen {
			first[body] = a.Time
		}
		count[body]++
		c.maxAttempts = max(c.maxAttempts, count[body])
		c.maxSpan = max(c.maxSpan, a.Time.Sub(first[body]))
		if i == 0 {
			continue
		}
		prev := history[i-1]
		gap := a.Time.Sub(prev.Time)
		c.minGap = min(c.minGap, gap)
		if prev.Status == 429 {
			c.minAfter429 = min(c.minAfter429, gap)
			if wait, _ := strconv.Atoi(prev.RetryAfter); gap < time.Duration(wait)*time.Second-100*time.Millisecond {
				c.problems = append(c.problems, fmt.Sprintf("request %d came %s after a 429 with Retry-After: %s", i+1, gap, prev.RetryAfter))
			}
		}
		if gap < 900*time.Millisecond {
			c.problems = append(c.problems, fmt.Sprintf("request %d came %s after the previous one: more than one message a second", i+1, gap))
		}
	}
	if c.maxAttempts > 5 || c.maxSpan > 2*time.Minute {
		c.problems = append(c.problems, fmt.Sprintf("a message was tried %d times over %s; the README promises 5 attempts within 2 minutes", c.maxAttempts, c.maxSpan))
	}
	return c
}
