package source_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-ml/tether/source"
)

// blockingBody is a request body that reports its first Read on read and
// then blocks until released, like a client trickling a huge body.
type blockingBody struct {
	content  io.Reader
	read     chan struct{}
	release  chan struct{}
	onceRead sync.Once
}

func newBlockingBody(content string) *blockingBody {
	return &blockingBody{content: strings.NewReader(content), read: make(chan struct{}), release: make(chan struct{})}
}

func (b *blockingBody) Read(p []byte) (int, error) {
	b.onceRead.Do(func() { close(b.read) })
	<-b.release
	return b.content.Read(p)
}

// serve runs h on req in the background; the returned channel yields the
// recorder once h has answered.
func serve(h http.Handler, req *http.Request) <-chan *httptest.ResponseRecorder {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		done <- rec
	}()
	return done
}

// answeredUnread serves req and checks that h answers want without reading
// a byte of the body (which would block until released).
func answeredUnread(t *testing.T, h http.Handler, req *http.Request, body *blockingBody, want int) {
	t.Helper()
	done := serve(h, req)
	select {
	case rec := <-done:
		if rec.Code != want {
			t.Errorf("status %d (%q), want %d", rec.Code, rec.Body.String(), want)
		}
	case <-body.read:
		close(body.release)
		rec := <-done
		t.Errorf("the body was read before answering %d (%q); want %d without reading it", rec.Code, rec.Body.String(), want)
	}
}

func newHook(t *testing.T, opts source.WebhookOptions) http.Handler {
	t.Helper()
	opts.SecretFile = writeFile(t, filepath.Join(t.TempDir(), "secret"), hookSecret+"\n")
	opts.Ref = "refs/heads/main"
	if opts.Wake == nil {
		opts.Wake = func() {}
	}
	h, err := source.NewWebhook(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestWebhookRejectsWithoutReading: a request that cannot be authentic, or
// says it is too large, is answered from its headers alone (issue 11): a
// sender cannot make tether read (and hold) an unsigned or oversized body.
func TestWebhookRejectsWithoutReading(t *testing.T) {
	const body = `{"ref":"refs/heads/main"}`
	tests := []struct {
		name          string
		method        string
		headers       map[string]string
		contentLength int64
		want          int
	}{
		{"unsigned", http.MethodPost, nil, 25, 401},
		{"github event without signature", http.MethodPost, map[string]string{"X-GitHub-Event": "push"}, 25, 401},
		{"github malformed signature", http.MethodPost, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=not-hex"}, 25, 401},
		{"github signature without sha256=", http.MethodPost, map[string]string{"X-Hub-Signature-256": "sha1=abcd"}, 25, 401},
		{"generic malformed signature", http.MethodPost, map[string]string{"X-Signature": "zz"}, 25, 401},
		{"gitlab without token", http.MethodPost, map[string]string{"X-Gitlab-Event": "Push Hook"}, 25, 401},
		{"gitlab wrong token", http.MethodPost, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "guess"}, 25, 401},
		{"wrong method", http.MethodPut, map[string]string{"X-Signature": sign(hookSecret, body)}, 25, 405},
		{"github oversized", http.MethodPost, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(hookSecret, body)}, 1 << 40, 413},
		{"generic oversized", http.MethodPost, map[string]string{"X-Signature": sign(hookSecret, body)}, 1025, 413},
		{"gitlab oversized", http.MethodPost, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": hookSecret}, 1 << 40, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			woken := false
			h := newHook(t, source.WebhookOptions{MaxBody: 1024, Wake: func() { woken = true }})
			b := newBlockingBody(body)
			req := httptest.NewRequest(tt.method, "/hooks/git", b)
			req.ContentLength = tt.contentLength
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			answeredUnread(t, h, req, b, tt.want)
			if woken {
				t.Error("a rejected request woke the poller")
			}
		})
	}
}

// TestWebhookCapsRequestsInFlight: requests beyond MaxInFlight are answered
// 503 at once, unread; a slot frees when a request is done.
func TestWebhookCapsRequestsInFlight(t *testing.T) {
	const body = `{"ref":"refs/heads/main"}`
	var mu sync.Mutex
	wakes := 0
	h := newHook(t, source.WebhookOptions{MaxInFlight: 2, Wake: func() { mu.Lock(); wakes++; mu.Unlock() }})
	signed := func(b io.Reader) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/hooks/git", b)
		req.Header.Set("X-Signature", sign(hookSecret, body))
		return req
	}
	var slow []*blockingBody
	var answers []<-chan *httptest.ResponseRecorder
	for range 2 {
		b := newBlockingBody(body)
		slow = append(slow, b)
		answers = append(answers, serve(h, signed(b)))
		<-b.read // in flight, reading its body
	}
	extra := newBlockingBody(body)
	answeredUnread(t, h, signed(extra), extra, http.StatusServiceUnavailable)
	for i, b := range slow {
		close(b.release)
		if rec := <-answers[i]; rec.Code != http.StatusAccepted {
			t.Errorf("request %d in flight: status %d (%q), want 202", i, rec.Code, rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signed(strings.NewReader(body)))
	if rec.Code != http.StatusAccepted || wakes != 3 {
		t.Errorf("after the slow requests: status %d, wakes %d; want 202 and 3", rec.Code, wakes)
	}
}

// TestWebhookAnswersBeforeTheBodyArrives: over a real connection, a sender
// that announces a huge body and sends none of it still gets its answer.
func TestWebhookAnswersBeforeTheBodyArrives(t *testing.T) {
	srv := httptest.NewServer(newHook(t, source.WebhookOptions{}))
	defer srv.Close()
	tests := []struct {
		name, headers string
		want          string
	}{
		{"unsigned", "", "401 Unauthorized"},
		{"oversized", "X-Signature: " + sign(hookSecret, "") + "\r\n", "413 Request Entity Too Large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /hooks/git HTTP/1.1\r\nHost: tether\r\nContent-Length: %d\r\n%s\r\n{", int64(1)<<40, tt.headers)
			conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a hang guard, not a timing
			status, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil || !strings.Contains(status, tt.want) {
				t.Errorf("status line %q (%v), want %s", status, err, tt.want)
			}
		})
	}
}
