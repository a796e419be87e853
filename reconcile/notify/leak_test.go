package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/slackrecv"
	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/notify"
)

// TestSecretsNeverLeak is the one place that checks tether's promise: the
// data of a drifted Secret and the webhook URLs appear in no payload and no
// log line, whether delivery succeeds, is retried or fails.
func TestSecretsNeverLeak(t *testing.T) {
	secretValues := []string{"c3VwZXJzZWNyZXQ=", "bGVha2VkLXZhbHVl", "plain-text-token", "hunter2"}
	slack := slackrecv.New(t)
	slack.Respond(func(n int) slackrecv.Reply {
		if n == 1 {
			return slackrecv.Reply{Status: 500, Body: "internal_error"}
		}
		return slackrecv.Reply{}
	})
	hook := newCapture(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/hooks/dead-webhook-token-4711"
	dead.Close()

	var logs logBuffer
	log := newLogger(&logs)
	targets := []notify.Target{
		{Name: "slack", Notifier: notify.NewSlack(notify.FileURL(urlFile(t, slack.URL)), "prod")},
		{Name: "webhook", Notifier: notify.NewWebhook(notify.FileURL(urlFile(t, hook.url)), "prod")},
		{Name: "dead", Notifier: notify.NewWebhook(notify.FileURL(urlFile(t, deadURL)), "prod")},
	}
	noWait := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	p, err := notify.NewPipeline(notify.Options{Cluster: "prod", Success: true, Log: log,
		Queue: notify.QueueOptions{Window: time.Hour}, Retry: notify.RetryOptions{Sleep: noWait}}, targets...)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(p)
	secret := reconcile.Key{Kind: "Secret", Namespace: "ml", Name: "model-credentials"}
	ev := driftEvent(secret, "reverted",
		change("data.password", secretValues[0], secretValues[1]),
		change("stringData.token", secretValues[2], nil),
		change("data", map[string]any{"pin": secretValues[3]}, map[string]any{}))
	p.Sink(ev)
	log.Info("drift reverted", "object", secret.String(), "diff", notify.MaskedDiff(ev.Drift)) // as cmd/tether logs it
	stop()

	if len(slack.Messages()) != 1 || len(hook.bodies()) != 1 {
		t.Fatalf("delivered %d slack and %d webhook messages, want 1 each", len(slack.Messages()), len(hook.bodies()))
	}
	slackBody := string(slack.Messages()[0].Raw)
	payloads := []string{slackBody, hook.bodies()[0]}
	if !strings.Contains(logs.String(), "connection refused") || !strings.Contains(logs.String(), "HTTP 500") {
		t.Fatalf("want the failures logged, got:\n%s", logs.String())
	}
	forbidden := append(secretValues, slack.Token, slack.URL, "dead-webhook-token-4711", hook.token)
	for _, s := range forbidden {
		for i, p := range payloads {
			if strings.Contains(p, s) {
				t.Errorf("payload %d contains %q:\n%s", i, s, p)
			}
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("logs contain %q:\n%s", s, logs.String())
		}
	}
	if !strings.Contains(slackBody, "data.password") {
		t.Errorf("the Slack message should still name the field:\n%s", slackBody)
	}
}

func urlFile(t *testing.T, url string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "url")
	if err := os.WriteFile(path, []byte(url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// capture is a generic webhook receiver that keeps the bodies it got.
type capture struct {
	url, token string
	mu         sync.Mutex
	got        []string
}

func newCapture(t *testing.T) *capture {
	c := &capture{token: "generic-webhook-token-0815"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.got = append(c.got, string(b))
		c.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	c.url = srv.URL + "/" + c.token
	return c
}

func (c *capture) bodies() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}
