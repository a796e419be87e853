package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/e2e/slackrecv"
	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
)

// alwaysClosed is a tether.yaml whose deny window is active at every
// instant: it starts every minute and lasts two.
const alwaysClosed = `syncWindows:
- {kind: deny, schedule: "* * * * *", duration: 2m, models: ["*"]}
`

// fraudNext is another digest of examples/models' fraud-detector image.
const fraudNext = "registry.example.com/fraud@sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"

// TestSyncWindow: under an always-active deny window a model change is held
// (the old image stays) while a kubectl patch is still reverted; /status,
// the metric, Slack (once) and tether status say so; a commit removing the
// window releases the change at the next poll.
func TestSyncWindow(t *testing.T) {
	ctx := context.Background()
	cs := clientset(t)
	ns := newNamespace(t, cs)
	repo, first := exampleRepo(t)
	slack := slackrecv.New(t)
	urlFile := filepath.Join(t.TempDir(), "slack-url")
	if err := os.WriteFile(urlFile, []byte(slack.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--repo", gitrepo.Serve(t, repo.Dir).URL, "--interval", "2s", "--default-namespace", ns,
		"--slack-webhook-url-file", urlFile, "--cluster-name", "e2e-cluster")
	image := func() (string, string) {
		dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "fraud-detector", metav1.GetOptions{})
		if err != nil {
			return "", ""
		}
		return dep.Spec.Template.Spec.Containers[0].Image, dep.Annotations[render.AnnotationRev]
	}
	eventually(t, 60*time.Second, "fraud-detector applied", func() (bool, error) { img, _ := image(); return img == fraudImage, nil })

	spec, err := os.ReadFile(filepath.Join(repo.Dir, "models/fraud-detector/model.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	held := repo.Commit(map[string]string{render.SettingsFile: alwaysClosed,
		"models/fraud-detector/model.yaml": strings.Replace(string(spec), fraudImage, fraudNext, 1)})
	st := eventuallyBlocked(t, d, held)
	if img, rev := image(); img != fraudImage || rev != first {
		t.Errorf("held model: image %s at %s, want %s at %s", img, rev, fraudImage, first)
	}
	if w := st.SyncBlocked.Windows; len(w) != 1 || w[0] != `deny "* * * * *" for 2m` || st.SyncBlocked.Opens != nil {
		t.Errorf("hold = %+v, want the window and no opening", st.SyncBlocked)
	}
	if !strings.Contains(d.metrics(t), `tether_sync_blocked{model="fraud-detector"} 1`) {
		t.Error("tether_sync_blocked{model=fraud-detector} is not 1")
	}

	t.Run("a kubectl patch is still reverted", func(t *testing.T) {
		if _, stderr, err := kubectl(t, "", "-n", ns, "patch", "deployment", "fraud-detector", "-p", `{"spec":{"replicas":5}}`); err != nil {
			t.Fatalf("kubectl patch: %v: %s", err, stderr)
		}
		eventually(t, 15*time.Second, "the patch reverted", func() (bool, error) {
			dep, err := cs.AppsV1().Deployments(ns).Get(ctx, "fraud-detector", metav1.GetOptions{})
			return err == nil && *dep.Spec.Replicas == 2, err
		})
		if img, _ := image(); img != fraudImage {
			t.Errorf("the revert applied the held image %s", img)
		}
	})
	t.Run("one Slack message", func(t *testing.T) {
		eventually(t, 15*time.Second, "a held message", func() (bool, error) {
			return len(messagesWith(slack, "Sync held* for model `fraud-detector`", held[:12], `deny "* * * * *" for 2m`)) > 0, nil
		})
		time.Sleep(5 * time.Second) // more polls of the same revision
		if n := len(messagesWith(slack, "Sync held")); n != 1 {
			t.Errorf("%d held messages, want 1", n)
		}
	})
	t.Run("tether status", func(t *testing.T) { checkStatusCommand(t, d, ns, first) })

	released := repo.Commit(map[string]string{render.SettingsFile: ""}) // tether.yaml removed
	took := eventually(t, 30*time.Second, "the held change applied", func() (bool, error) { img, _ := image(); return img == fraudNext, nil })
	if _, rev := image(); rev != released {
		t.Errorf("released at %s, want the commit removing the window %s", rev, released)
	}
	if strings.Contains(d.metrics(t), `tether_sync_blocked{model="fraud-detector"} 1`) {
		t.Error("tether_sync_blocked{model=fraud-detector} still 1")
	}
	t.Logf("applied %s after the commit removing the window (interval 2s)", took)
}

// eventuallyBlocked waits until /status shows fraud-detector SyncBlocked at
// revision rev and returns its status.
func eventuallyBlocked(t *testing.T, d *daemon, rev string) reconcile.UnitStatus {
	t.Helper()
	var out reconcile.UnitStatus
	eventually(t, 30*time.Second, "fraud-detector SyncBlocked", func() (bool, error) {
		var st reconcile.UnitStatus
		if err := d.getJSON("/status/models/fraud-detector", &st); err != nil {
			return false, err
		}
		out = st
		return st.State == reconcile.StateSyncBlocked && st.SyncBlocked != nil && st.SyncBlocked.Revision == rev, nil
	})
	return out
}

// checkStatusCommand runs tether status against the daemon and against the
// records.
func checkStatusCommand(t *testing.T, d *daemon, ns, applied string) {
	table := runTether(t, "status", "--addr", "http://"+d.addr)
	if !regexp.MustCompile(`(?m)^fraud-detector\s+model\s+SyncBlocked\s+` + applied[:12] + `\s+\S+\s+\S.*held by deny`).MatchString(table) {
		t.Errorf("tether status --addr:\n%s", table)
	}
	one := runTether(t, "status", "fraud-detector", "--addr", "http://"+d.addr)
	for _, want := range []string{"Commit:        tether-test <test@tether.dev>", "Dataset:       s3://data/fraud/2026-11",
		"Training run:  Job fraud-detector-train-", "Sync blocked:", "Deployment/" + ns + "/fraud-detector"} {
		if !strings.Contains(one, want) {
			t.Errorf("tether status fraud-detector lacks %q:\n%s", want, one)
		}
	}
	records := runTether(t, "status", "--kubeconfig", cluster.Shared().Kubeconfig, "--namespace", ns)
	if !regexp.MustCompile(`(?m)^fraud-detector\s+model\s+Unknown\s+` + applied[:12] + `\s`).MatchString(records) {
		t.Errorf("tether status --kubeconfig:\n%s", records)
	}
	out, err := exec.Command(tetherBin, "status", "nope", "--addr", "http://"+d.addr).CombinedOutput()
	if code := exitCodeOf(err); code != 1 || !strings.Contains(string(out), `no model or bundle named "nope"`) {
		t.Errorf("tether status nope: exit %d: %s", code, out)
	}
}

func exitCodeOf(err error) int {
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode()
	case err != nil:
		return -1
	}
	return 0
}

func (d *daemon) getJSON(path string, v any) error {
	resp, err := http.Get("http://" + d.addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

func (d *daemon) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + d.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}
