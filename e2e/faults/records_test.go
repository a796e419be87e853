//go:build faults

package faults

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRecordsDeleted: every inventory record is deleted by hand under a
// running daemon, which is then restarted; afterwards a commit removes a
// model. tether must re-apply and record every object, adopting them (the
// README's Adoption), and delete nothing: a removed model's adopted objects
// are left in place.
func TestRecordsDeleted(t *testing.T) {
	f := newFixture(t, "faults-records")
	const models = 10
	r := newResult(t, "inventory records deleted by hand",
		fmt.Sprintf("all %d records deleted (kubectl delete configmap -l tether.dev/instance) under a running daemon (--interval 5s), which is restarted after 3 intervals; then a commit removes m009", models))
	f.repo.Commit(modelFiles("m", models, 2))
	args := f.args("--interval", "5s")
	first := startDaemon(t, args...)
	first.reconciled(t, 0, f.repo.Head(), 3*time.Minute)
	before := f.converged(t, time.Minute)
	m009Keys := f.modelKeys(t, "m009")
	m009 := f.k.mustLive(t, m009Keys)

	deleted := time.Now()
	err := f.k.cs.CoreV1().ConfigMaps(f.ns).DeleteCollection(t.Context(), metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "tether.dev/instance"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(15 * time.Second)
	whileRunning := len(f.k.records(t, f.ns))
	drift := f.k.driftMany(t, f.ns, []string{"m001", "m002", "m003"}, 2, 200*time.Millisecond)
	if err := first.Stop(30 * time.Second); err != nil {
		t.Error(err)
	}

	second := startDaemon(t, args...)
	eventually(t, 3*time.Minute, "every record written again", func() (bool, error) {
		return len(f.k.records(t, f.ns)) == models, nil
	})
	rewritten := time.Since(deleted)
	head := f.repo.Commit(removal("m009"))
	second.reconciled(t, second.Mark(), head, 3*time.Minute)
	r.lose(t, "of the removed model m009, adopted, deleted", replaced(m009, f.k.mustLive(t, m009Keys)))
	f.account(t, r, before, time.Minute)
	if !second.adoptionReported("m009") {
		t.Error("no log line says m009's objects were left in place as adopted")
	}
	r.tether("while running: %d of %d records back after 3 intervals; drift still reverted (%s)", whileRunning, models, latencies(drift))
	r.tether("after the restart: re-applied and recorded all %d models (%s after the deletion), adopted; m009's %d objects left in place when it left Git", models, rewritten.Round(time.Second), len(m009))
}

// modelKeys are the objects of one model, as tether renders the head.
func (f *fixture) modelKeys(t *testing.T, model string) []objKey {
	t.Helper()
	var keys []objKey
	for _, k := range rendered(t, f.repo.Dir, f.ns) {
		if k.Name == model || len(k.Name) > len(model) && k.Name[:len(model)+1] == model+"-" {
			keys = append(keys, k)
		}
	}
	return keys
}

// adoptionReported: a log line says model's objects were left in place
// because they were adopted (a PruneSkipped event).
func (d *daemon) adoptionReported(model string) bool {
	for _, l := range d.Find(0, "prune skipped", map[string]string{"model": model}) {
		if msg, _ := l.Fields["err"].(string); strings.HasPrefix(msg, "adopted:") {
			return true
		}
	}
	return false
}
