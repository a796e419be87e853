package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-ml/tether/reconcile"
)

func TestNotifyFlags(t *testing.T) {
	urlFile := filepath.Join(t.TempDir(), "url")
	if err := os.WriteFile(urlFile, []byte("https://hooks.slack.com/services/T0/B0/secret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badFile := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(badFile, []byte("secret-token-not-a-url"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		err  string // "" when the flags are valid
	}{
		{"defaults", nil, ""},
		{"everything", []string{"--slack-webhook-url-file", urlFile, "--webhook-url-file", urlFile, "--cluster-name", "prod",
			"--notify-on", "drift,prune", "--notify-success", "--digest-schedule", "0 9 * * 1-5", "--notify-batch-window", "2s"}, ""},
		{"unknown category", []string{"--notify-on", "drift,all"}, `--notify-on "all"`},
		{"bad window", []string{"--notify-batch-window", "0s"}, "--notify-batch-window 0s"},
		{"digest without a webhook", []string{"--digest-schedule", "@daily"}, "need --slack-webhook-url-file or --webhook-url-file"},
		{"bad digest schedule", []string{"--slack-webhook-url-file", urlFile, "--digest-schedule", "9 * *"}, `digest-schedule "9 * *"`},
		{"missing url file", []string{"--slack-webhook-url-file", urlFile + ".missing"}, "--slack-webhook-url-file: webhook url file"},
		{"url file without a URL", []string{"--webhook-url-file", badFile}, "does not hold an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := startNotifyFromArgs(t, tt.args)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("err = %v, want one containing %q", err, tt.err)
			case err != nil && strings.Contains(err.Error(), "secret-token"):
				t.Fatalf("the error quotes the URL file: %v", err)
			}
		})
	}
}

// startNotifyFromArgs parses `tether run` flags and starts (and stops) the
// notification pipeline they describe.
func startNotifyFromArgs(t *testing.T, args []string) error {
	f, err := parseRunFlags(append([]string{"--repo", t.TempDir()}, args...))
	if err != nil {
		return err
	}
	_, stop, err := startNotify(t.Context(), &f.notify, nil, nil)
	if err != nil {
		return err
	}
	stop()
	return nil
}

func TestTeeSinks(t *testing.T) {
	var got []string
	sink := teeSinks(func(ev reconcile.Event) { got = append(got, "log:"+string(ev.Type)) }, nil,
		func(ev reconcile.Event) { got = append(got, "notify:"+string(ev.Type)) })
	sink(reconcile.Event{Type: reconcile.EventDrift})
	if strings.Join(got, ",") != "log:Drift,notify:Drift" {
		t.Errorf("got %v", got)
	}
}
