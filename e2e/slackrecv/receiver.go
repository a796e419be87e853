package slackrecv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Reply is what the receiver answers to one request.
type Reply struct {
	Status     int    // default 200
	RetryAfter string // Retry-After header, if any
	Body       string // default "ok"
}

// Responder chooses the reply to the n-th valid request (1-based). It may
// block, to play a Slack that hangs.
type Responder func(n int) Reply

// Receiver is a fake Slack incoming webhook on loopback.
type Receiver struct {
	URL   string // the webhook URL, with a secret path as Slack's has
	Token string // the secret part of URL

	srv  *httptest.Server
	path string

	mu       sync.Mutex
	respond  Responder
	onAccept func(Message)
	attempts int
	history  []Attempt
	messages []Message
	invalid  []error
}

// Attempt is one valid request and the status it was answered with.
type Attempt struct {
	Time       time.Time // when the reply was written
	Status     int
	RetryAfter string
	Message    Message
}

// Outage answers like a Slack that is failing until end: odd requests get
// 429 with Retry-After: retryAfter, even ones 500; from end on, 200 ok.
func Outage(end time.Time, retryAfter string) Responder {
	return func(n int) Reply {
		switch {
		case !time.Now().Before(end):
			return Reply{}
		case n%2 == 1:
			return Reply{Status: http.StatusTooManyRequests, RetryAfter: retryAfter, Body: "rate_limited"}
		}
		return Reply{Status: http.StatusInternalServerError, Body: "internal_error"}
	}
}

// Start starts a receiver; Close stops it.
func Start() *Receiver {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	r := &Receiver{Token: hex.EncodeToString(b)}
	r.path = "/services/T0TETHER/B0TETHER/" + r.Token
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.srv.URL + r.path
	return r
}

// New starts a receiver for a test: it is closed at the end, and every
// payload that broke Slack's rules fails the test.
func New(t testing.TB) *Receiver {
	t.Helper()
	r := Start()
	t.Cleanup(func() {
		r.Close()
		for _, err := range r.Invalid() {
			t.Errorf("slack payload rejected: %v", err)
		}
	})
	return r
}

// Close stops the server.
func (r *Receiver) Close() { r.srv.Close() }

// Respond scripts the replies; nil restores "200 ok".
func (r *Receiver) Respond(fn Responder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.respond = fn
}

// OnMessage calls fn for every accepted message, as it arrives.
func (r *Receiver) OnMessage(fn func(Message)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onAccept = fn
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != r.path {
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	msg, err := Validate(body)
	if err == nil && !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		err = fmt.Errorf("invalid_payload: Content-Type %q, want application/json", req.Header.Get("Content-Type"))
	}
	r.mu.Lock()
	if err != nil {
		r.invalid = append(r.invalid, err)
		r.mu.Unlock()
		http.Error(w, strings.SplitN(err.Error(), ":", 2)[0], http.StatusBadRequest)
		return
	}
	r.attempts++
	n, respond := r.attempts, r.respond
	r.mu.Unlock()
	reply := Reply{}
	if respond != nil {
		reply = respond(n) // may block; not under the lock
	}
	r.answer(w, reply, *msg)
}

func (r *Receiver) answer(w http.ResponseWriter, reply Reply, msg Message) {
	if reply.Status == 0 {
		reply.Status = http.StatusOK
	}
	if reply.Body == "" {
		reply.Body = "ok"
	}
	if reply.RetryAfter != "" {
		w.Header().Set("Retry-After", reply.RetryAfter)
	}
	r.mu.Lock()
	r.history = append(r.history, Attempt{Time: time.Now(), Status: reply.Status, RetryAfter: reply.RetryAfter, Message: msg})
	var fn func(Message)
	if reply.Status == http.StatusOK {
		r.messages = append(r.messages, msg)
		fn = r.onAccept
	}
	r.mu.Unlock()
	if fn != nil {
		fn(msg)
	}
	w.WriteHeader(reply.Status)
	_, _ = io.WriteString(w, reply.Body)
}

// Messages returns the messages accepted so far (answered 200).
func (r *Receiver) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.messages...)
}

// Attempts is the number of valid requests received, whatever the reply.
func (r *Receiver) Attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts
}

// History returns every valid request so far, in order, with its answer.
func (r *Receiver) History() []Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Attempt(nil), r.history...)
}

// Invalid returns why each rejected payload broke Slack's rules.
func (r *Receiver) Invalid() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.invalid...)
}

// slackDate matches <!date^unix^format|fallback>; Render shows the fallback.
var slackDate = regexp.MustCompile(`<!date\^[^|>]*\|([^>]*)>`)

// Render shows a message roughly as Slack would: header, sections and
// context as lines of text, dates in their fallback form, entities decoded.
func (m Message) Render() string {
	var b strings.Builder
	for _, bl := range m.Blocks {
		switch {
		case bl.Type == "divider":
			b.WriteString("----\n")
		case bl.Text != nil:
			b.WriteString(bl.Text.Text + "\n")
		}
		for _, e := range append(bl.Fields, bl.Elements...) {
			b.WriteString(e.Text + "\n")
		}
	}
	if len(m.Blocks) == 0 {
		b.WriteString(m.Text + "\n")
	}
	out := slackDate.ReplaceAllString(b.String(), "$1")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(out)
}
