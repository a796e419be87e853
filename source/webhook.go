package source

import (
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
	SecretFile string         // shared secret; re-read when the file changes
	Ref        string         // tracked ref (Repo.Ref); pushes to other refs are ignored
	Wake       func()         // asks for a fetch now; must not block (reconcile.Loop.Wake)
	MaxBody    int64          // request body limit in bytes; default 10 MiB
	Observe    func(Delivery) // optional: told about every request, e.g. to log it
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

const defaultMaxBody = 10 << 20

type webhook struct {
	opts   WebhookOptions
	secret *watchedFile
}

// NewWebhook returns the handler for /hooks/git. It authenticates each
// request before looking at it: GitHub's X-Hub-Signature-256 (HMAC-SHA256 of
// the body), GitLab's X-Gitlab-Token (the secret itself, compared in
// constant time) or a generic X-Signature: sha256=<hex HMAC of the body>. A
// request without a valid signature gets 401 and changes nothing. A push to
// the tracked ref calls Wake and gets 202; other events and refs get 200 and
// are ignored; GitHub's ping gets 200.
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
	return &webhook{opts: opts, secret: newWatchedFile(opts.SecretFile)}, nil
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

// handle decides the answer; ServeHTTP writes it.
func (h *webhook) handle(w http.ResponseWriter, r *http.Request) Delivery {
	d := Delivery{Provider: provider(r.Header)}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return d.answer(http.StatusMethodNotAllowed, "rejected: method %s", r.Method)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return d.answer(http.StatusRequestEntityTooLarge, "rejected: body over %d bytes", h.opts.MaxBody)
	case err != nil:
		return d.answer(http.StatusBadRequest, "rejected: reading body: %v", err)
	}
	secret, _, err := h.secret.read()
	if err != nil || len(strings.TrimSpace(string(secret))) == 0 {
		return d.answer(http.StatusInternalServerError, "rejected: webhook secret unavailable")
	}
	if reason := authenticate(d.Provider, r.Header, body, []byte(strings.TrimSpace(string(secret)))); reason != "" {
		return d.answer(http.StatusUnauthorized, "rejected: %s", reason)
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

// authenticate returns why the request is not authentic, or "".
func authenticate(provider string, h http.Header, body, secret []byte) string {
	switch provider {
	case ProviderGitHub:
		return checkHMAC(h.Get("X-Hub-Signature-256"), body, secret)
	case ProviderGitLab:
		token := h.Get("X-Gitlab-Token")
		if token == "" {
			return "missing X-Gitlab-Token"
		}
		// Hash both sides so the comparison takes the same time whatever the lengths.
		got, want := sha256.Sum256([]byte(token)), sha256.Sum256(secret)
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return "wrong X-Gitlab-Token"
		}
		return ""
	case ProviderGeneric:
		return checkHMAC(h.Get("X-Signature"), body, secret)
	}
	return "no signature (X-Hub-Signature-256, X-Gitlab-Token or X-Signature)"
}

// checkHMAC verifies a "sha256=<hex>" HMAC-SHA256 of body.
func checkHMAC(header string, body, secret []byte) string {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return "missing or malformed sha256= signature"
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return "malformed signature"
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return "wrong signature"
	}
	return ""
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
