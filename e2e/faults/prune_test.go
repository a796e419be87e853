//go:build faults

package faults

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// TestKilledMidPrune: a commit removes 40 of 60 models; the daemon is
// SIGKILLed after its tenth deletion. A restarted daemon must finish the
// prune, delete the records of the removed models, and delete nothing else:
// not the 20 remaining models, not the victims, and not an object that
// carries a removed model's ApplySet label without being in its record.
func TestKilledMidPrune(t *testing.T) {
	f := newFixture(t, "faults-prune")
	const models, removed, killAfter = 60, 40, 10
	r := newResult(t, "daemon SIGKILLed mid-prune",
		fmt.Sprintf("a commit removes %d of %d models (%d objects to delete, --max-prune 100%%); the daemon is SIGKILLed after the %dth deletion and started again", removed, models, 3*removed, killAfter))
	f.repo.Commit(modelFiles("m", models, 1))
	args := f.args("--interval", "5s", "--max-prune", "100%")
	first := startDaemon(t, args...)
	first.reconciled(t, 0, f.repo.Head(), 5*time.Minute)
	f.victims = append(f.victims, f.smuggle(t, "m030"))
	before := f.converged(t, time.Minute)

	var gone []string
	for i := models - removed; i < models; i++ {
		gone = append(gone, fmt.Sprintf("m%03d", i))
	}
	deletions := f.watchDeletions(t)
	head := f.repo.Commit(removal(gone...))
	killed := 0
	select {
	case killed = <-deletions.after(killAfter):
	case <-time.After(5 * time.Minute):
		t.Fatal("no deletions within 5 minutes")
	}
	first.kill(t)
	time.Sleep(time.Second) // deletions in flight reach the watch
	atKill := deletions.count()
	if atKill >= 3*removed {
		t.Fatalf("the prune finished (%d deletions) before the kill; the case needs a partial prune", atKill)
	}
	restarted := time.Now()
	second := startDaemon(t, args...)
	done := second.reconciled(t, 0, head, 5*time.Minute)
	for _, m := range gone {
		f.gone(t, m, time.Minute)
	}
	f.account(t, r, before, time.Minute)
	if n := len(f.k.records(t, f.ns)); n != models-removed {
		t.Errorf("%d records left (%s), want %d", n, f.recordNames(t), models-removed)
	}
	r.tether("the restarted daemon finished the prune %s after it started: %d more deletions, %d in all",
		done.Sub(restarted).Round(100*time.Millisecond), deletions.count()-atKill, deletions.count())
	r.tether("%d records left for %d models", len(f.k.records(t, f.ns)), models-removed)
	r.figure("killed after deletion %d; %d of %d deletions done at the kill", killed, atKill, 3*removed)
}

// smuggle creates a ConfigMap that carries model's ApplySet part-of label
// without being in its record: tether must never delete it (ownership rule 1).
func (f *fixture) smuggle(t *testing.T, model string) objKey {
	t.Helper()
	ctx := t.Context()
	list, err := f.k.cs.CoreV1().ConfigMaps(f.ns).List(ctx, metav1.ListOptions{LabelSelector: "tether.dev/instance"})
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, cm := range list.Items {
		if cm.Name[len(cm.Name)-len(model)-1:] == "-"+model {
			id = cm.Labels["applyset.kubernetes.io/id"]
		}
	}
	if id == "" {
		t.Fatalf("no record of %s among %d records", model, len(list.Items))
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "smuggled-" + model,
		Labels: map[string]string{"applyset.kubernetes.io/part-of": id, "app.kubernetes.io/managed-by": "tether", "tether.dev/model": model}}}
	if _, err := f.k.cs.CoreV1().ConfigMaps(f.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return objKey{"", "ConfigMap", f.ns, cm.Name}
}

// deletionCounter counts deleted Deployments, Services and Jobs in a
// namespace as watches report them.
type deletionCounter struct {
	events chan struct{}
	total  chan int
	n      int
}

// watchDeletions watches the namespace's Deployments, Services and Jobs
// until the test ends.
func (f *fixture) watchDeletions(t *testing.T) *deletionCounter {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &deletionCounter{events: make(chan struct{}, 1000), total: make(chan int)}
	opts := metav1.ListOptions{LabelSelector: "applyset.kubernetes.io/part-of"}
	starts := []func() (watch.Interface, error){
		func() (watch.Interface, error) { return f.k.cs.AppsV1().Deployments(f.ns).Watch(ctx, opts) },
		func() (watch.Interface, error) { return f.k.cs.CoreV1().Services(f.ns).Watch(ctx, opts) },
		func() (watch.Interface, error) { return f.k.cs.BatchV1().Jobs(f.ns).Watch(ctx, opts) },
	}
	for _, start := range starts {
		w, err := start()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for ev := range w.ResultChan() {
				if ev.Type == watch.Deleted {
					c.events <- struct{}{}
				}
			}
		}()
	}
	go c.run(ctx)
	return c
}

func (c *deletionCounter) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.events:
			c.n++
		case c.total <- c.n:
		}
	}
}

// count is the number of deletions seen so far.
func (c *deletionCounter) count() int { return <-c.total }

// after returns a channel that receives the count once it reached n.
func (c *deletionCounter) after(n int) <-chan int {
	out := make(chan int, 1)
	go func() {
		for {
			if got := c.count(); got >= n {
				out <- got
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return out
}
