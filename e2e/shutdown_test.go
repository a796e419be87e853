package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/e2e/slackrecv"
)

// TestSIGTERMDeliversTheLastEvents (issue 11): when SIGTERM arrives in the
// middle of a cold apply, the writes under way finish, and what they report
// still reaches Slack: every model the daemon logged as applied is in a
// Slack message, and no "context canceled" failure is posted.
func TestSIGTERMDeliversTheLastEvents(t *testing.T) {
	ctx := context.Background()
	cs := clientset(t)
	ns := newNamespace(t, cs)
	files := map[string]string{}
	for i := range 40 {
		name := fmt.Sprintf("s%02d", i)
		files["models/"+name+"/model.yaml"] = fmt.Sprintf("apiVersion: tether.dev/v1alpha1\nkind: Model\nmetadata: {name: %s}\nspec:\n  image: %s\n  serving: {port: 8080, replicas: 1}\n", name, fraudImage)
	}
	repo := gitrepo.New(t)
	repo.Commit(files)
	slack := slackrecv.New(t)
	urlFile := filepath.Join(t.TempDir(), "slack-url")
	if err := os.WriteFile(urlFile, []byte(slack.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--repo", repo.Dir, "--interval", "1h", "--default-namespace", ns,
		"--slack-webhook-url-file", urlFile, "--notify-success", "--notify-batch-window", "20s")
	eventually(t, 30*time.Second, "the cold apply under way", func() (bool, error) {
		deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		return err == nil && len(deps.Items) >= 5, err
	})
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = d.cmd.Wait()

	var logged []string
	for _, l := range d.find("applied", nil) {
		logged = append(logged, fmt.Sprint(l["model"]))
	}
	if len(logged) == 0 {
		t.Fatal("the daemon logged no applied model before it stopped")
	}
	var posted strings.Builder
	for _, m := range slack.Messages() {
		posted.WriteString(m.Render())
	}
	for _, model := range logged {
		if !strings.Contains(posted.String(), "`"+model+"`") {
			t.Errorf("model %s was applied (logged) but is in no Slack message", model)
		}
	}
	if strings.Contains(posted.String(), "context canceled") {
		t.Errorf("stopping was posted as a failure:\n%s", posted.String())
	}
	t.Logf("%d models applied before the daemon stopped, all posted", len(logged))
}
