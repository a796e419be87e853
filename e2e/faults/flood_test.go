//go:build faults

package faults

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWebhookFlood: -flood unsigned or wrongly signed webhook requests, 50
// at a time, while drift is measured. Every request must be answered 401 or
// 503, none may start a fetch, and drift must still be reverted.
func TestWebhookFlood(t *testing.T) {
	f := newFixture(t, "faults-flood")
	n := *floodSize
	r := newResult(t, "webhook flood",
		fmt.Sprintf("%d unsigned or wrongly signed POST /hooks/git, 50 at a time (a quarter each: no signature, a wrong GitHub HMAC over a 64 KiB push body, a wrong generic HMAC, a wrong GitLab token), while Deployments drift every 100 ms", n))
	f.repo.Commit(modelFiles("m", 10, 2))
	secret := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(secret, []byte("the-real-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, f.args("--interval", "1h", "--webhook-secret-file", secret)...)
	d.reconciled(t, 0, f.repo.Head(), 3*time.Minute)
	before := f.converged(t, time.Minute)
	names := []string{"m000", "m001", "m002", "m003", "m004", "m005", "m006", "m007", "m008", "m009"}
	quiet := f.k.driftMany(t, f.ns, append(names, names...), 2, 100*time.Millisecond)

	time.Sleep(2 * time.Second)
	rssBefore := rssMiB(d.pid())
	gitBefore := f.server.Requests.Load()
	peak := rssPeak(d.pid())
	stopDrift := f.k.driftWhile(f.ns, names, 2, 100*time.Millisecond)
	began := time.Now()
	codes := flood(d.Addr, n, 50)
	took := time.Since(began)
	during, driftErrs := stopDrift()
	rssPeak := peak()
	time.Sleep(5 * time.Second)
	rssAfter := rssMiB(d.pid())

	for code, count := range codes {
		if code != http.StatusUnauthorized && code != http.StatusServiceUnavailable {
			t.Errorf("%d requests answered %d, want only 401 or 503", count, code)
		}
	}
	if fetches := f.server.Requests.Load() - gitBefore; fetches != 0 {
		t.Errorf("%d requests to the Git server during the flood, want none", fetches)
	}
	for _, err := range driftErrs {
		t.Error(err)
	}
	f.account(t, r, before, time.Minute)
	r.tether("answered %s in %s (%.0f requests/s); no fetch (0 requests to the Git server); reverted all %d drifts made during the flood",
		codeList(codes), took.Round(100*time.Millisecond), float64(n)/took.Seconds(), len(during))
	r.figure("RSS %.0f MiB before, %.0f MiB peak, %.0f MiB 5 s after", rssBefore, rssPeak, rssAfter)
	r.figure("drift revert before %s; during %s", latencies(quiet), latencies(during))
}

// flood sends n bad webhook requests to addr, workers at a time, and counts
// the answers by status; a request that got no answer counts as status 0.
func flood(addr string, n, workers int) map[int]int {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	push := []byte(`{"ref":"refs/heads/main","pad":"` + strings.Repeat("x", 64<<10) + `"}`)
	jobs := make(chan int)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				code := send(client, addr, i, push)
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return codes
}

// send makes the i-th request of the flood; its kind turns with i.
func send(client *http.Client, addr string, i int, push []byte) int {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/hooks/git", bytes.NewReader(push))
	if err != nil {
		return 0
	}
	bad := "sha256=" + strings.Repeat("ab", 32)
	switch i % 4 {
	case 0:
		req.Header.Set("X-GitHub-Event", "push") // no signature at all
	case 1:
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-Hub-Signature-256", bad)
	case 2:
		req.Header.Set("X-Signature", bad)
	case 3:
		req.Header.Set("X-Gitlab-Event", "Push Hook")
		req.Header.Set("X-Gitlab-Token", "not-the-secret")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// codeList formats status counts by status.
func codeList(codes map[int]int) string {
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(codes)) {
		parts = append(parts, fmt.Sprintf("%d × %d", codes[code], code))
	}
	return strings.Join(parts, ", ")
}

// driftWhile drifts the named Deployments in turn, gap apart, until the
// returned func is called; that returns the revert latencies and errors.
func (k *kube) driftWhile(ns string, names []string, desired int32, gap time.Duration) func() ([]time.Duration, []error) {
	stop := make(chan struct{})
	var lat []time.Duration
	var errs []error
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(gap):
			}
			d, err := k.drift(context.Background(), ns, names[i%len(names)], desired, desired+3+int32(i%5), 30*time.Second)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			lat = append(lat, d)
		}
	})
	return func() ([]time.Duration, []error) { close(stop); wg.Wait(); return lat, errs }
}
