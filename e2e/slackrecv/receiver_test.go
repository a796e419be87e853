package slackrecv_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/e2e/slackrecv"
)

// TestOutage: during an outage requests alternate between 429 with
// Retry-After and 500, afterwards they are accepted; History keeps every
// answer and Messages only the accepted ones.
func TestOutage(t *testing.T) {
	r := slackrecv.New(t)
	end := time.Now().Add(500 * time.Millisecond)
	r.Respond(slackrecv.Outage(end, "7"))
	type answer struct {
		Status     int
		RetryAfter string
	}
	var got []answer
	for i := range 4 {
		if i == 3 {
			time.Sleep(time.Until(end))
		}
		resp, err := http.Post(r.URL, "application/json", strings.NewReader(`{"text":"drift"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, answer{resp.StatusCode, resp.Header.Get("Retry-After")})
	}
	want := []answer{{429, "7"}, {500, ""}, {429, "7"}, {200, ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	var history []answer
	for _, a := range r.History() {
		history = append(history, answer{a.Status, a.RetryAfter})
	}
	if diff := cmp.Diff(want, history); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
	if n := len(r.Messages()); n != 1 {
		t.Errorf("%d messages accepted, want 1", n)
	}
}
