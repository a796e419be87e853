package reconcile

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/tether-ml/tether/e2e/cluster"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// TestEachRecordWriteGetsTheWriteTimeout: a pass writes the records of many
// units, applyWorkers at a time; each write gets writeTimeout of its own, not
// what is left of one deadline for the whole pass. With 10,000 models the
// records written last in the cold apply failed with "context deadline
// exceeded" and were retried at every poll after (docs/BENCHMARKS.md, issue
// 15). Record writes are slowed here so the later ones start late; the test
// checks the deadline each one carries, not how long anything took.
func TestEachRecordWriteGetsTheWriteTimeout(t *testing.T) {
	f := newFixture(t)
	const delay = 300 * time.Millisecond
	var mu sync.Mutex
	var left []time.Duration // time to the deadline when each record write started
	cfg := rest.CopyConfig(cluster.Shared().Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPatch && strings.Contains(req.URL.Path, "/configmaps/tether-test-model-") {
				if deadline, ok := req.Context().Deadline(); ok {
					mu.Lock()
					left = append(left, time.Until(deadline))
					mu.Unlock()
				}
				time.Sleep(delay)
			}
			return rt.RoundTrip(req)
		})
	})
	f.startAs(cfg)
	specs := map[string]string{}
	for i := range 2*applyWorkers + 1 {
		name := fmt.Sprintf("m%02d", i)
		specs[name] = servingSpec(name, "registry.example.com/m:v1", 1)
	}
	f.pass("rev1", f.models(specs))

	mu.Lock()
	defer mu.Unlock()
	if len(left) != len(specs) {
		t.Fatalf("%d record writes with a deadline, want %d", len(left), len(specs))
	}
	for i, d := range left {
		if d < writeTimeout-delay/2 {
			t.Errorf("record write %d started %s before its deadline, want about writeTimeout (%s)", i, d.Round(time.Millisecond), writeTimeout)
		}
	}
	if failed := f.eventsOf(EventSyncFailed); len(failed) > 0 {
		t.Errorf("sync failures: %v", failed)
	}
}

// TestLeaderRecordWritesHaveADeadline: a leader's record writes (the
// compare-and-set of fence.go, from passes and drift reverts alike) are
// bounded by writeTimeout: context.WithoutCancel also drops the caller's
// deadline, and a hung write would hold the record's lock for good.
func TestLeaderRecordWritesHaveADeadline(t *testing.T) {
	f := newFixture(t)
	f.leader = &fakeLeader{term: 1, ok: true}
	var mu sync.Mutex
	writes, bounded := 0, 0
	cfg := rest.CopyConfig(cluster.Shared().Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			// a leader creates and updates records; the models render no ConfigMap
			if (req.Method == http.MethodPost || req.Method == http.MethodPut) && strings.Contains(req.URL.Path, "/configmaps") {
				_, ok := req.Context().Deadline()
				mu.Lock()
				writes++
				if ok {
					bounded++
				}
				mu.Unlock()
			}
			return rt.RoundTrip(req)
		})
	})
	f.startAs(cfg)
	f.pass("rev1", f.models(map[string]string{"m1": servingSpec("m1", "registry.example.com/m:v1", 1)}))
	f.pass("rev2", f.models(map[string]string{"m1": servingSpec("m1", "registry.example.com/m:v2", 1)}))
	mu.Lock()
	defer mu.Unlock()
	if writes == 0 || bounded != writes {
		t.Errorf("%d of %d record writes had a deadline, want all (and some)", bounded, writes)
	}
}
