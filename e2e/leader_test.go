package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/gitrepo"
)

// replicas is a test of two replicas of one daemon: a Git repository with
// one serving model, and the flags both replicas run with.
type replicas struct {
	t    *testing.T
	ns   string
	repo *gitrepo.Repo
	args []string
}

func newReplicas(t *testing.T) *replicas {
	ns := newNamespace(t, clientset(t))
	repo := gitrepo.New(t)
	r := &replicas{t: t, ns: ns, repo: repo}
	r.commit(1)
	hook := writeSecret(t, t.TempDir(), "webhook", webhookSecret+"\n")
	r.args = []string{"--repo", repo.Dir, "--default-namespace", ns, "--interval", "1h", "--instance", "ha",
		"--webhook-secret-file", hook, "--leader-elect", "--leader-elect-namespace", ns,
		"--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s", "--leader-elect-retry-period", "500ms"}
	return r
}

// commit sets the model's replicas and returns the commit.
func (r *replicas) commit(n int) string {
	return r.repo.Commit(map[string]string{"models/m/model.yaml": fmt.Sprintf(`apiVersion: tether.dev/v1alpha1
kind: Model
metadata: {name: m}
spec:
  image: %s
  serving: {port: 8080, replicas: %d}
`, fraudImage, n)})
}

func (r *replicas) replicasAre(n int32) func() (bool, error) {
	return func() (bool, error) {
		d, err := clientset(r.t).AppsV1().Deployments(r.ns).Get(context.Background(), "m", metav1.GetOptions{})
		return err == nil && *d.Spec.Replicas == n, err
	}
}

// leading waits until d says it leads.
func leading(t *testing.T, d *daemon) {
	t.Helper()
	eventually(t, 20*time.Second, "a replica leads", func() (bool, error) { return len(d.find("leading", nil)) > 0, nil })
}

func (r *replicas) push(d *daemon) int {
	body := `{"ref":"refs/heads/main"}`
	return postHook(r.t, d, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": hmacSHA256(webhookSecret, body)}, body)
}

// start runs two replicas: a leads and applied the first commit, b is a
// ready standby that names the leader on /status.
func (r *replicas) start() (a, b *daemon) {
	t := r.t
	a = startDaemon(t, r.args...)
	leading(t, a)
	eventually(t, 20*time.Second, "the leader applied the first commit", r.replicasAre(1))
	b = startDaemon(t, r.args...)
	eventually(t, 10*time.Second, "the standby is ready and names the leader", func() (bool, error) {
		return b.get(t, "/readyz") == http.StatusOK && strings.Contains(b.body(t, "/status"), `"standby": true`), nil
	})
	return a, b
}

// TestLeaderElection (issue 12): one replica applies, the other waits; a
// webhook reaching the standby still gets the leader to fetch; SIGTERM hands
// the lead over and the standby applies the next commit.
func TestLeaderElection(t *testing.T) {
	r := newReplicas(t)
	a, b := r.start()
	if n := len(b.find("revision reconciled", nil)); n != 0 {
		t.Fatalf("the standby reconciled %d revisions", n)
	}

	r.commit(2)
	if got := r.push(b); got != http.StatusAccepted {
		t.Fatalf("push to the standby: status %d, want the leader's 202", got)
	}
	eventually(t, 10*time.Second, "the leader applied the commit pushed to the standby", r.replicasAre(2))

	r.commit(3)
	stopped := time.Now()
	a.stop(t)
	eventually(t, 30*time.Second, "the standby took over and applied the next commit", r.replicasAre(3))
	t.Logf("SIGTERM to the leader → the standby applied the next commit in %s", time.Since(stopped).Round(10*time.Millisecond))
	leading(t, b)
}

// TestPausedLeaderIsFenced (issue 12): a leader stopped with SIGSTOP past its
// lease is replaced; when it continues it writes nothing (the API server's
// audit log has no write of its after the new leader's first) and exits.
func TestPausedLeaderIsFenced(t *testing.T) {
	r := newReplicas(t)
	a, b := r.start()

	r.commit(2)
	if err := a.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	leading(t, b)
	eventually(t, 20*time.Second, "the new leader applied the next commit", r.replicasAre(2))
	r.commit(3)
	if err := a.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	r.push(a) // the old leader, awake, still believes it leads: it would fetch and apply
	done := make(chan error, 1)
	go func() { done <- a.Wait() }()
	select {
	case err := <-done:
		t.Logf("the old leader exited: %v; its last lines:\n%s", err, tail(a.logs(), 6))
	case <-time.After(20 * time.Second):
		t.Fatal("the old leader did not stop after losing its lease")
	}

	first, lateWrites := firstAndLateWrites(t, b, a)
	if first.IsZero() {
		t.Fatal("no write of the new leader in the audit log")
	}
	for _, w := range lateWrites {
		t.Errorf("the old leader wrote after the new leader's first write: %s %s %s/%s at %s", w.Verb, w.Object.Resource, w.Object.Namespace, w.Object.Name, w.Received)
	}
	if strings.Contains(a.logs(), `"msg":"revision reconciled","revision":"`+r.repo.Head()) {
		t.Error("the old leader reconciled the newest commit")
	}
}

// firstAndLateWrites reads the audit log: when the new leader first wrote,
// and the old leader's writes after that.
func firstAndLateWrites(t *testing.T, newLeader, oldLeader *daemon) (time.Time, []cluster.Write) {
	t.Helper()
	writes, err := cluster.Shared().Writes()
	if err != nil {
		t.Fatal(err)
	}
	var first time.Time
	for _, w := range writes {
		if strings.Contains(w.UserAgent, newLeader.addr+")") && (first.IsZero() || w.Received.Before(first)) {
			first = w.Received
		}
	}
	var late []cluster.Write
	for _, w := range writes {
		if strings.Contains(w.UserAgent, oldLeader.addr+")") && !w.Received.Before(first) {
			late = append(late, w)
		}
	}
	return first, late
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
