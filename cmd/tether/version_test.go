package main

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWithVCS(t *testing.T) {
	stamp := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "abc123"},
		{Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name     string
		ldflags  buildInfo
		settings []debug.BuildSetting
		want     buildInfo
	}{
		{"ldflags win", buildInfo{Version: "v1.2.0", Commit: "def456", BuildDate: "2026-12-01T00:00:00Z"}, stamp,
			buildInfo{Version: "v1.2.0", Commit: "def456", BuildDate: "2026-12-01T00:00:00Z"}},
		{"VCS stamp without ldflags", buildInfo{Version: "dev"}, stamp,
			buildInfo{Version: "dev", Commit: "abc123-dirty", BuildDate: "2026-11-30T10:00:00Z"}},
		{"clean tree", buildInfo{Version: "dev"}, stamp[:3],
			buildInfo{Version: "dev", Commit: "abc123", BuildDate: "2026-11-30T10:00:00Z"}},
		{"nothing known", buildInfo{Version: "dev"}, nil,
			buildInfo{Version: "dev", Commit: "unknown", BuildDate: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, withVCS(tt.ldflags, tt.settings)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "v1.2.0", "def456", "2026-12-01T00:00:00Z"
	goLine := "go:         " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	code, stdout, _ := run(t, "version")
	want := "tether v1.2.0\ncommit:     def456\nbuild date: 2026-12-01T00:00:00Z\n" + goLine
	if code != 0 || stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", code, stdout, want)
	}
	for _, args := range [][]string{{"version", "--output", "json"}, {"version", "-o", "json"}} {
		code, stdout, _ := run(t, args...)
		var got buildInfo
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != 0 {
			t.Fatalf("%v: exit %d, %v: %s", args, code, err, stdout)
		}
		want := buildInfo{Version: "v1.2.0", Commit: "def456", BuildDate: "2026-12-01T00:00:00Z",
			GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
		if diff := cmp.Diff(want, got); diff != "" || !strings.Contains(stdout, `"buildDate"`) {
			t.Errorf("%v (-want +got):\n%s", args, diff)
		}
	}
}
