//go:build faults

package faults

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/cluster"
)

// result is one row of the suite's table, filled in by the case as it
// measures: what was done, what tether did, how many objects were lost or
// wrongly deleted, and the figures.
type result struct {
	name    string
	done    string
	did     []string
	lost    int
	figures []string
	took    time.Duration
	failed  bool
}

var (
	resultsMu sync.Mutex
	results   []*result
	loadStart = cluster.LoadAverage(" / ")
)

// newResult starts the row of the running test; it is added to the table
// when the test ends, marked failed if the test failed.
func newResult(t *testing.T, name, done string) *result {
	r := &result{name: name, done: done}
	start := time.Now()
	t.Cleanup(func() {
		r.took, r.failed = time.Since(start), t.Failed()
		resultsMu.Lock()
		results = append(results, r)
		resultsMu.Unlock()
	})
	return r
}

// tether records what tether did, as a sentence of the row.
func (r *result) tether(format string, args ...any) {
	r.did = append(r.did, fmt.Sprintf(format, args...))
}

// figure records one measurement.
func (r *result) figure(format string, args ...any) {
	r.figures = append(r.figures, fmt.Sprintf(format, args...))
}

// lose counts objects lost or wrongly deleted and fails the test naming them.
func (r *result) lose(t *testing.T, what string, keys []string) {
	t.Helper()
	if len(keys) == 0 {
		return
	}
	r.lost += len(keys)
	t.Errorf("%d objects %s: %s", len(keys), what, strings.Join(keys, ", "))
}

// printTable writes the markdown table of every case run to w and, when
// file is set, to file.
func printTable(w io.Writer, file string, took time.Duration) error {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if len(results) == 0 {
		return nil
	}
	slices.SortStableFunc(results, func(a, b *result) int { return rank(a.name) - rank(b.name) })
	var b strings.Builder
	b.WriteString("| case | what was done | what tether did | lost or wrongly deleted | figures | result |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	lost := 0
	for _, r := range results {
		verdict := "pass"
		if r.failed {
			verdict = "FAIL"
		}
		lost += r.lost
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s (%s) |\n", r.name, cell(r.done), cell(strings.Join(r.did, "; ")),
			r.lost, cell(strings.Join(r.figures, "; ")), verdict, r.took.Round(time.Second))
	}
	fmt.Fprintf(&b, "\n%d cases, %d objects lost or wrongly deleted; the suite took %s; load average %s at the start, %s at the end.\n",
		len(results), lost, took.Round(time.Second), loadStart, cluster.LoadAverage(" / "))
	fmt.Fprintf(w, "\n%s", b.String())
	if file == "" {
		return nil
	}
	return os.WriteFile(file, []byte(b.String()), 0o644)
}

// order is the order of the cases; rows follow it, whatever order
// the tests ran in.
var order = []string{"kube-apiserver", "etcd", "Git", "daemon SIGKILLed", "Slack", "webhook flood", "inventory records", "managed Namespace", "hostile"}

func rank(name string) int {
	for i, prefix := range order {
		if strings.HasPrefix(name, prefix) {
			return i
		}
	}
	return len(order)
}

// cell escapes what would break a markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
