//go:build faults

package faults

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// metric sums the samples of a Prometheus metric from /metrics whose labels
// include every label given ("k=v"); a metric not exported yet is 0.
func (d *daemon) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	body, err := d.get("/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	sum := 0.0
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		series, value, ok := strings.Cut(line, " ")
		metric, labelSet, _ := strings.Cut(series, "{")
		if !ok || metric != name || !hasLabels(labelSet, labels) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metrics: %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

func hasLabels(set string, labels []string) bool {
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		if !strings.Contains(set, fmt.Sprintf("%s=%q", k, v)) {
			return false
		}
	}
	return true
}

// rssMiB is the resident set size of pid, in MiB.
func rssMiB(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// rssPeak samples pid's RSS every 100 ms until the returned func is called,
// which returns the highest sample.
func rssPeak(pid int) func() float64 {
	done := make(chan struct{})
	var peak float64
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, rssMiB(pid))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() float64 { close(done); wg.Wait(); return peak }
}

// percentile of xs (nearest rank); 0 for none.
func percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// latencies formats p50, p99 and max of xs in milliseconds.
func latencies(xs []time.Duration) string {
	return fmt.Sprintf("p50 %s, p99 %s, max %s (n=%d)", ms(percentile(xs, 50)), ms(percentile(xs, 99)), ms(percentile(xs, 100)), len(xs))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

// eventually polls cond every 100 ms until it holds or timeout passes, and
// returns how long it took.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) time.Duration {
	t.Helper()
	start := time.Now()
	var last error
	for time.Since(start) < timeout {
		ok, err := cond()
		if ok {
			return time.Since(start)
		}
		if err != nil {
			last = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not true after %s (last error: %v)", what, timeout, last)
	return 0
}
