package cluster

import (
	"bytes"
	"strings"
	"testing"
)

// TestProgress: package names from go build -v are counted, not printed;
// the go command's messages pass through, however the output is split.
func TestProgress(t *testing.T) {
	var log bytes.Buffer
	p := startProgress(&log, "building kwok")
	for _, chunk := range []string{"go: downloading sigs.k8s.io/kwok v0.8.0\nk8s.io/api/co", "re/v1\nsigs.k8s.io/kwok/cmd/kwok\n", "# some/pkg\nvet: x.go:1: bad\n"} {
		if _, err := p.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	p.finish()
	got := log.String()
	for _, want := range []string{"go: downloading sigs.k8s.io/kwok v0.8.0\n", "# some/pkg\n", "vet: x.go:1: bad\n", "building kwok: done in 0s (2 packages)"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "k8s.io/api/core/v1\n") || p.last != "sigs.k8s.io/kwok/cmd/kwok" {
		t.Errorf("package names printed or not counted (last %q):\n%s", p.last, got)
	}
}
