package test

import (
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// chartOnlyFlags are flags of `tether run` the chart does not offer, and why.
var chartOnlyFlags = map[string]string{
	"kubeconfig": "in a pod tether uses its ServiceAccount (in-cluster config)",
}

// pendingFlags are flags the chart already offers for the daemon's next
// release (issue 12): config keys whose flags this binary may not know yet.
// Unset, they render nothing, so today's binary accepts the arguments.
var pendingFlags = []string{}

// runFlags lists the flags `tether run --help` prints: "-name" lines of Go's
// flag package and "--name" lines of pflag alike.
func runFlags(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command(tetherBin, "run", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("tether run --help: %v\n%s", err, out)
	}
	re := regexp.MustCompile(`(?m)^\s+(?:-[a-z], )?--?([a-z][a-z0-9-]+)`)
	var flags []string
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		if m[1] != "help" && !slices.Contains(flags, m[1]) {
			flags = append(flags, m[1])
		}
	}
	if len(flags) < 10 {
		t.Fatalf("found only %d flags in tether run --help:\n%s", len(flags), out)
	}
	sort.Strings(flags)
	return flags
}

// chartFlags lists the flag of every config key in values.yaml, as the chart
// renders them.
func chartFlags(t *testing.T) []string {
	t.Helper()
	cfg, _ := readValues(t, chartDir+"/values.yaml")["config"].(map[string]any)
	var flags []string
	for key := range cfg {
		flags = append(flags, kebab(key))
	}
	sort.Strings(flags)
	return flags
}

// kebab is sprig's kebabcase for the chart's camelCase keys.
func kebab(key string) string {
	var b strings.Builder
	for i, r := range key {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestValuesMapOntoFlags keeps config.* and the flags of `tether run` one to
// one: every flag has a key (but chartOnlyFlags), every key is a flag (but
// pendingFlags, until the binary has them).
func TestValuesMapOntoFlags(t *testing.T) {
	binary, chart := runFlags(t), chartFlags(t)
	var missing, unknown []string
	for _, f := range binary {
		if _, ok := chartOnlyFlags[f]; !ok && !slices.Contains(chart, f) {
			missing = append(missing, f)
		}
	}
	for _, f := range chart {
		if !slices.Contains(binary, f) && !slices.Contains(pendingFlags, f) {
			unknown = append(unknown, f)
		}
	}
	if diff := cmp.Diff([]string(nil), missing); diff != "" {
		t.Errorf("flags of tether run with no config key in values.yaml (add them, camelCase):\n%s", diff)
	}
	if diff := cmp.Diff([]string(nil), unknown); diff != "" {
		t.Errorf("config keys that are no flag of tether run:\n%s", diff)
	}
	for _, f := range pendingFlags {
		if slices.Contains(binary, f) {
			t.Logf("--%s is now a flag of tether run: drop it from pendingFlags", f)
		}
	}
}

// TestArgsAreFlags renders every config key set and checks that the binary
// parses the Deployment's arguments (pending flags aside).
func TestArgsAreFlags(t *testing.T) {
	values := readValues(t, "testdata/render/full.values.yaml")
	cfg := values["config"].(map[string]any)
	for _, f := range pendingFlags {
		delete(cfg, camel(f))
	}
	deploy := find(t, objects(t, mustRender(t, values).Manifest), "Deployment", releaseName)
	args := append(containerArgs(t, deploy), "--help")
	out, err := exec.Command(tetherBin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("tether %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// camel is kebab's inverse.
func camel(flag string) string {
	parts := strings.Split(flag, "-")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}
