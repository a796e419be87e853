package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/e2e/slackrecv"
)

// brokenModel has no image: invalid, so tether reports it and skips it.
const brokenModel = `apiVersion: tether.dev/v1alpha1
kind: Model
metadata:
  name: broken
spec:
  serving:
    port: 8080
`

// TestSlack runs the daemon with a Slack webhook pointing at a receiver that
// enforces Slack's payload rules, and checks what people are told.
func TestSlack(t *testing.T) {
	ctx := context.Background()
	cs := clientset(t)
	ns := newNamespace(t, cs)
	repo, first := exampleRepo(t)
	server := gitrepo.Serve(t, repo.Dir)
	slack := slackrecv.New(t)
	urlFile := filepath.Join(t.TempDir(), "slack-url")
	if err := os.WriteFile(urlFile, []byte(slack.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	d := startDaemon(t, "--repo", server.URL, "--branch", "main", "--interval", "1s", "--default-namespace", ns,
		"--slack-webhook-url-file", urlFile, "--cluster-name", "e2e-cluster")
	eventually(t, 30*time.Second, "fraud-detector applied", func() (bool, error) {
		_, err := cs.AppsV1().Deployments(ns).Get(ctx, "fraud-detector", metav1.GetOptions{})
		return err == nil, err
	})

	t.Run("an out-of-band change is reported within 5s", func(t *testing.T) {
		patch(t, cs, ns, "fraud-detector", `{"spec":{"replicas":5}}`)
		took := eventually(t, 5*time.Second, "a Slack message about the reverted drift", func() (bool, error) {
			return len(messagesWith(slack, "e2e-cluster", "Deployment "+ns+"/fraud-detector", "`spec.replicas`: `2` → `5`",
				"Changed by `"+intruder+"`", "action: *reverted*", "revision `"+first[:12]+"`")) > 0, nil
		})
		t.Logf("Slack message %s after the patch", took)
	})

	t.Run("an invalid model is reported once", func(t *testing.T) {
		second := repo.Commit(map[string]string{"models/broken/model.yaml": brokenModel})
		eventually(t, 10*time.Second, "a Slack message about the invalid model", func() (bool, error) {
			return len(messagesWith(slack, "Invalid model* `broken`", second[:12], "spec.image")) > 0, nil
		})
		time.Sleep(3 * time.Second) // three more polls of the same revision
		if n := len(messagesWith(slack, "Invalid model* `broken`")); n != 1 {
			t.Errorf("invalid model reported %d times, want once", n)
		}
	})

	t.Run("the webhook URL appears in no log line and not in /status", func(t *testing.T) {
		if strings.Contains(d.logs(), slack.Token) {
			t.Errorf("the logs contain the webhook URL")
		}
		resp, err := http.Get("http://" + d.addr + "/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(body), slack.Token) {
			t.Errorf("/status contains the webhook URL")
		}
	})
}

// messagesWith returns the received messages that contain every substring,
// as Slack would show them.
func messagesWith(r *slackrecv.Receiver, subs ...string) []slackrecv.Message {
	var out []slackrecv.Message
	for _, m := range r.Messages() {
		text := m.Render()
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(text, s)
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}
