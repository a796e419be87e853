package source

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// WebhookOptions configure the push webhook handler (NewWebhook).
type WebhookOptions struct {
	SecretFile  string         // shared secret; re-read when the file changes
	Ref         string         // tracked ref (Repo.Ref); pushes to other refs are ignored
	Wake        func()         // asks for a fetch now; must not block (reconcile.Loop.Wake)
	MaxBody     int64          // request body limit in bytes; default 10 MiB
	MaxInFlight int            // requests handled at once; more are answered 503, unread; default 4
	Observe     func(Delivery) // optional: told about every request, e.g. to log it
}

// Delivery is one webhook request and what the handler did with it.
type Delivery struct {
	Provider string // github, gitlab, generic; empty when unrecognised
	Event    string // the provider's event name, e.g. push, ping, Push Hook
	Ref      string // the pushed ref, when the payload names one
	Status   int    // the HTTP status answered
	Outcome  string // accepted, ignored: ..., rejected: ...
}

// The providers a delivery is recognised as.
const (
	ProviderGitHub  = "github"
	ProviderGitLab  = "gitlab"
	ProviderGeneric = "generic"
)

const (
	defaultMaxBody     = 10 << 20
	defaultMaxInFlight = 4
)

type webhook struct {
	opts   WebhookOptions
	secret *watchedFile
	slots  chan struct{} // one per request being handled
}

// NewWebhook returns the handler for /hooks/git. It authenticates each
// request before looking at it: GitHub's X-Hub-Signature-256 (HMAC-SHA256 of
// the body), GitLab's X-Gitlab-Token (the secret itself, compared in
// constant time) or a generic X-Signature: sha256=<hex HMAC of the body>. A
// request without a valid signature gets 401 and changes nothing. A push to
// the tracked ref calls Wake and gets 202; other events and refs get 200 and
// are ignored; GitHub's ping gets 200.
//
// The body is read last (issue 11): a request with no well-formed signature
// header, a wrong GitLab token or a Content-Length over MaxBody is answered
// from its headers (401, 413), and beyond MaxInFlight requests being handled
// the rest get 503 at once, so no sender can make tether hold more than
// MaxInFlight bodies.
func NewWebhook(opts WebhookOptions) (http.Handler, error) {
	if opts.SecretFile == "" {
		return nil, errors.New("webhook: a secret file is required")
	}
	if opts.Wake == nil {
		return nil, errors.New("webhook: a wake function is required")
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = defaultMaxBody
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = defaultMaxInFlight
	}
	return &webhook{opts: opts, secret: newWatchedFile(opts.SecretFile), slots: make(chan struct{}, opts.MaxInFlight)}, nil
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := h.handle(w, r)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(d.Status)
	fmt.Fprintln(w, d.Outcome)
	if h.opts.Observe != nil {
		h.opts.Observe(d)
	}
}

// handle decides the answer; ServeHTTP writes it. Everything that can be
// decided from the headers is, before the body is read.
func (h *webhook) handle(w http.ResponseWriter, r *http.Request) Delivery {
	d := Delivery{Provider: provider(r.Header)}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return d.answer(http.StatusMethodNotAllowed, "rejected: method %s", r.Method)
	}
	sig, reason := signature(d.Provider, r.Header)
	if reason != "" {
		return d.answer(http.StatusUnauthorized, "rejected: %s", reason)
	}
	secret, _, err := h.secret.read()
	secret = bytes.TrimSpace(secret)
	if err != nil || len(secret) == 0 {
		return d.answer(http.StatusInternalServerError, "rejected: webhook secret unavailable")
	}
	if d.Provider == ProviderGitLab && !sameToken(sig, secret) {
		return d.answer(http.StatusUnauthorized, "rejected: wrong X-Gitlab-Token")
	}
	if r.ContentLength > h.opts.MaxBody {
		return d.answer(http.StatusRequestEntityTooLarge, "rejected: body over %d bytes", h.opts.MaxBody)
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		return d.answer(http.StatusServiceUnavailable, "rejected: %d requests in flight already", h.opts.MaxInFlight)
	}
	return h.readAndRoute(w, r, d, sig, secret)
}

// readAndRoute reads the body of a request whose headers passed, checks its
// HMAC and acts on it.
func (h *webhook) readAndRoute(w http.ResponseWriter, r *http.Request, d Delivery, sig, secret []byte) Delivery {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return d.answer(http.StatusRequestEntityTooLarge, "rejected: body over %d bytes", h.opts.MaxBody)
	case err != nil:
		return d.answer(http.StatusBadRequest, "rejected: reading body: %v", err)
	}
	if d.Provider != ProviderGitLab && !validHMAC(sig, body, secret) {
		return d.answer(http.StatusUnauthorized, "rejected: wrong signature")
	}
	return h.route(d, r.Header, body)
}

// route acts on an authenticated delivery.
func (h *webhook) route(d Delivery, header http.Header, body []byte) Delivery {
	d.Event = event(d.Provider, header)
	switch {
	case d.Provider == ProviderGitHub && d.Event == "ping":
		return d.answer(http.StatusOK, "pong")
	case !isPush(d.Provider, d.Event):
		return d.answer(http.StatusOK, "ignored: event %q", d.Event)
	}
	var payload struct {
		Ref string `json:"ref"`
	}
	if err := json.Unmarshal(body, &payload); err != nil && d.Provider != ProviderGeneric {
		return d.answer(http.StatusBadRequest, "rejected: payload is not JSON")
	}
	d.Ref = payload.Ref
	if d.Ref != "" && d.Ref != h.opts.Ref {
		return d.answer(http.StatusOK, "ignored: push to %s, tracking %s", d.Ref, h.opts.Ref)
	}
	if d.Ref == "" && d.Provider != ProviderGeneric {
		return d.answer(http.StatusBadRequest, "rejected: push payload names no ref")
	}
	h.opts.Wake()
	return d.answer(http.StatusAccepted, "accepted")
}

func (d Delivery) answer(status int, format string, args ...any) Delivery {
	d.Status, d.Outcome = status, fmt.Sprintf(format, args...)
	return d
}

// provider recognises the sender from its headers.
func provider(h http.Header) string {
	switch {
	case h.Get("X-Hub-Signature-256") != "", h.Get("X-GitHub-Event") != "":
		return ProviderGitHub
	case h.Get("X-Gitlab-Token") != "", h.Get("X-Gitlab-Event") != "":
		return ProviderGitLab
	case h.Get("X-Signature") != "":
		return ProviderGeneric
	}
	return ""
}

// signature returns what the request is signed with: the HMAC it carries
// (GitHub, generic) or GitLab's token; reason says why there is none usable.
func signature(provider string, h http.Header) (sig []byte, reason string) {
	switch provider {
	case ProviderGitHub:
		return parseHMAC(h.Get("X-Hub-Signature-256"))
	case ProviderGitLab:
		if token := h.Get("X-Gitlab-Token"); token != "" {
			return []byte(token), ""
		}
		return nil, "missing X-Gitlab-Token"
	case ProviderGeneric:
		return parseHMAC(h.Get("X-Signature"))
	}
	return nil, "no signature (X-Hub-Signature-256, X-Gitlab-Token or X-Signature)"
}

// parseHMAC decodes a "sha256=<hex>" signature header.
func parseHMAC(header string) ([]byte, string) {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return nil, "missing or malformed sha256= signature"
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil || len(sig) != sha256.Size {
		return nil, "malformed signature"
	}
	return sig, ""
}

// sameToken compares a GitLab token with the secret in constant time; both
// sides are hashed so the time does not depend on their lengths either.
func sameToken(token, secret []byte) bool {
	got, want := sha256.Sum256(token), sha256.Sum256(secret)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// validHMAC reports whether sig is the HMAC-SHA256 of body under secret.
func validHMAC(sig, body, secret []byte) bool {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(sig, mac.Sum(nil))
}

func event(provider string, h http.Header) string {
	switch provider {
	case ProviderGitHub:
		return h.Get("X-GitHub-Event")
	case ProviderGitLab:
		return h.Get("X-Gitlab-Event")
	}
	return h.Get("X-Event")
}

func isPush(provider, event string) bool {
	switch provider {
	case ProviderGitHub:
		return event == "push"
	case ProviderGitLab:
		return event == "Push Hook" || event == "Tag Push Hook" || event == ""
	}
	return event == "" || event == "push"
}
