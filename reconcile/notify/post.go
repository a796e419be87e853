package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// StatusError is a non-2xx answer from a webhook. RetryAfter is the wait the
// server asked for (HTTP 429 or 503 with Retry-After), zero when it named none.
type StatusError struct {
	Code       int
	Body       string
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// newClient is an http.Client for webhooks: bounded in time and never
// following a redirect (which would carry the payload somewhere unexpected).
func newClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   2,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// post sends one JSON body and classifies the outcome: 429, 5xx and network
// errors may succeed later, any other failure will not. Errors name the
// notifier, never the URL.
func post(ctx context.Context, client *http.Client, ep Endpoint, name string, body []byte) (retry bool, err error) {
	u, err := ep.URL()
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("%s: build request: %w", name, redact(err, u))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("%s: post: %w", name, redact(err, u))
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	se := &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(strings.ReplaceAll(string(text), u, "<url>"))}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500, fmt.Errorf("%s: %w", name, se)
}

// redact strips the URL from an HTTP client error: *url.Error quotes it, and
// the path of a Slack webhook URL is its secret.
func redact(err error, u string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if msg := err.Error(); strings.Contains(msg, u) {
		return errors.New(strings.ReplaceAll(msg, u, "<url>"))
	}
	return err
}

// retryAfter parses Retry-After: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Endpoint yields the URL a notifier posts to. The URL is a credential: it
// must never be logged or put into an error.
type Endpoint interface {
	URL() (string, error)
}

// StaticURL is an Endpoint that never changes, for tests and examples.
type StaticURL string

// URL returns u.
func (u StaticURL) URL() (string, error) { return string(u), nil }

// fileURL reads the URL from a file (a mounted Secret) and reads it again
// whenever the file's size or modification time changes, so a rotated
// webhook takes effect without a restart.
type fileURL struct {
	path string

	mu      sync.Mutex
	url     string
	size    int64
	modTime time.Time
}

// FileURL returns an Endpoint backed by the file at path.
func FileURL(path string) Endpoint { return &fileURL{path: path} }

// URL returns the file's URL, re-reading the file when it changed.
func (f *fileURL) URL() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path)
	if err != nil {
		if f.url != "" {
			return f.url, nil // a Secret volume is briefly missing during an update
		}
		return "", fmt.Errorf("webhook url file %s: %w", f.path, errors.Unwrap(err))
	}
	if f.url != "" && st.Size() == f.size && st.ModTime().Equal(f.modTime) {
		return f.url, nil
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return "", fmt.Errorf("webhook url file %s: %w", f.path, errors.Unwrap(err))
	}
	u := strings.TrimSpace(string(b))
	if err := checkURL(u); err != nil {
		return "", fmt.Errorf("webhook url file %s: %w", f.path, err)
	}
	f.url, f.size, f.modTime = u, st.Size(), st.ModTime()
	return u, nil
}

// checkURL validates a webhook URL without ever quoting it.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("does not hold an http(s) URL")
	}
	return nil
}
