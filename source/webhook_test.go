package source_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tether-ml/tether/source"
)

const hookSecret = "hook-secret-9f2"

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestWebhook(t *testing.T) {
	push := func(ref string) string { return `{"ref":"` + ref + `","after":"abc"}` }
	main, other := push("refs/heads/main"), push("refs/heads/feature")
	tests := []struct {
		name    string
		body    string
		headers map[string]string
		status  int
		woken   bool
	}{
		{"github push", main, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(hookSecret, main)}, 202, true},
		{"github ping", `{"zen":"x"}`, map[string]string{"X-GitHub-Event": "ping", "X-Hub-Signature-256": sign(hookSecret, `{"zen":"x"}`)}, 200, false},
		{"github other branch", other, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(hookSecret, other)}, 200, false},
		{"github other event", main, map[string]string{"X-GitHub-Event": "issues", "X-Hub-Signature-256": sign(hookSecret, main)}, 200, false},
		{"github missing signature", main, map[string]string{"X-GitHub-Event": "push"}, 401, false},
		{"github wrong signature", main, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign("guess", main)}, 401, false},
		{"github signature of another body", main, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": sign(hookSecret, other)}, 401, false},
		{"gitlab push", main, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": hookSecret}, 202, true},
		{"gitlab other branch", other, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": hookSecret}, 200, false},
		{"gitlab missing token", main, map[string]string{"X-Gitlab-Event": "Push Hook"}, 401, false},
		{"gitlab wrong token", main, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": hookSecret + "x"}, 401, false},
		{"generic with ref", main, map[string]string{"X-Signature": sign(hookSecret, main)}, 202, true},
		{"generic without payload", "", map[string]string{"X-Signature": sign(hookSecret, "")}, 202, true},
		{"generic other branch", other, map[string]string{"X-Signature": sign(hookSecret, other)}, 200, false},
		{"generic wrong signature", main, map[string]string{"X-Signature": sign("guess", main)}, 401, false},
		{"generic malformed signature", main, map[string]string{"X-Signature": "sha256=zz"}, 401, false},
		{"unsigned", main, nil, 401, false},
		{"body too large", strings.Repeat("x", 2048), map[string]string{"X-Signature": sign(hookSecret, strings.Repeat("x", 2048))}, 413, false},
	}
	secretFile := writeFile(t, filepath.Join(t.TempDir(), "secret"), hookSecret+"\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wakes atomic.Int32
			var seen []source.Delivery
			h, err := source.NewWebhook(source.WebhookOptions{SecretFile: secretFile, Ref: "refs/heads/main", MaxBody: 1024,
				Wake: func() { wakes.Add(1) }, Observe: func(d source.Delivery) { seen = append(seen, d) }})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, "/hooks/git", strings.NewReader(tt.body))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || (wakes.Load() == 1) != tt.woken || wakes.Load() > 1 {
				t.Errorf("status %d (%q), wakes %d; want %d, woken=%v", rec.Code, rec.Body.String(), wakes.Load(), tt.status, tt.woken)
			}
			if len(seen) != 1 || seen[0].Status != rec.Code {
				t.Errorf("observed %+v", seen)
			}
		})
	}
}

func TestWebhookSecretRotation(t *testing.T) {
	secretFile := writeFile(t, filepath.Join(t.TempDir(), "secret"), "old-secret")
	woken := 0
	h, err := source.NewWebhook(source.WebhookOptions{SecretFile: secretFile, Ref: "refs/heads/main", Wake: func() { woken++ }})
	if err != nil {
		t.Fatal(err)
	}
	post := func(secret string) int {
		req := httptest.NewRequest(http.MethodPost, "/hooks/git", strings.NewReader(""))
		req.Header.Set("X-Signature", sign(secret, ""))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if post("old-secret") != 202 {
		t.Fatal("old secret refused")
	}
	rotate(t, secretFile, "new-secret")
	if got, got2 := post("old-secret"), post("new-secret"); got != 401 || got2 != 202 || woken != 2 {
		t.Errorf("after rotation: old %d, new %d, wakes %d; want 401, 202, 2", got, got2, woken)
	}
	req := httptest.NewRequest(http.MethodGet, "/hooks/git", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET = %d", rec.Code)
	}
}
