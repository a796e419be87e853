package notify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-ml/tether/reconcile/notify"
)

func TestFileURL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "url")
	write := func(s string, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	ep := notify.FileURL(path)
	if _, err := ep.URL(); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: err = %v", err)
	}
	write("https://hooks.example.com/services/A/B/one\n", when)
	if u, err := ep.URL(); err != nil || u != "https://hooks.example.com/services/A/B/one" {
		t.Errorf("URL = %q, %v", u, err)
	}
	write("https://hooks.example.com/services/A/B/two\n", when.Add(time.Second))
	if u, err := ep.URL(); err != nil || u != "https://hooks.example.com/services/A/B/two" {
		t.Errorf("after rotation: URL = %q, %v", u, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if u, err := ep.URL(); err != nil || !strings.HasSuffix(u, "/two") {
		t.Errorf("while the Secret volume is updated: URL = %q, %v; want the last one", u, err)
	}
}

func TestFileURLRejectsNonURL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "url")
	if err := os.WriteFile(path, []byte("xoxb-not-a-url-SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := notify.FileURL(path).URL()
	if err == nil || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "does not hold an http(s) URL") {
		t.Errorf("err = %v; want a complaint that does not quote the file", err)
	}
}
