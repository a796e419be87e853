package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

// parseRunFlags parses `tether run` flags as the command does, without
// starting the daemon.
func parseRunFlags(args []string) (*runFlags, error) {
	f := &runFlags{}
	cmd := &cobra.Command{Use: "run"}
	f.register(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		return nil, err
	}
	if err := cmd.ValidateRequiredFlags(); err != nil {
		return nil, err
	}
	return f, f.check()
}

// renderCommand runs `tether render args...`.
func renderCommand(args []string, stdout io.Writer) error {
	return execute(context.Background(), append([]string{"render"}, args...), stdout, io.Discard)
}

// validateCommand runs `tether validate args...`.
func validateCommand(args []string, stdout io.Writer) error {
	return execute(context.Background(), append([]string{"validate"}, args...), stdout, io.Discard)
}

// run executes tether with args as main does and returns its exit code,
// stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := execute(t.Context(), args, &stdout, &stderr)
	code := report(err, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestBadInvocation: every mistake in an invocation is one line on stderr,
// "tether: ...", and exit code 2.
func TestBadInvocation(t *testing.T) {
	bundles := filepath.Join(testdata, "bundles")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no command", nil, nil, "missing command"},
		{"unknown command", nil, []string{"deploy"}, `unknown command "deploy"`},
		{"misspelt command", nil, []string{"rnu"}, `unknown command "rnu"; did you mean "run"?`},
		{"unknown flag", nil, []string{"run", "--repo", ".", "--no-such-flag"}, "run: unknown flag: --no-such-flag"},
		{"Go flag spelling", nil, []string{"run", "-repo", "."}, "run: unknown shorthand flag: 'r' in -repo"},
		{"missing --repo", nil, []string{"run"}, `run: required flag(s) "repo" not set`},
		{"bad bool", nil, []string{"run", "--repo", ".", "--prune=maybe"}, `run: invalid argument "maybe" for "--prune" flag`},
		{"bad duration", nil, []string{"run", "--repo", ".", "--resync", "often"}, `invalid argument "often" for "--resync" flag`},
		{"bad drift mode", nil, []string{"run", "--repo", ".", "--drift", "sometimes"}, `run: --drift "sometimes": expected revert or report`},
		{"bad shard name", nil, []string{"run", "--repo", ".", "--shard", "GPU_A"}, `run: --shard "GPU_A": a lowercase RFC 1123 label`},
		{"long shard name", nil, []string{"run", "--repo", ".", "--shard", strings.Repeat("s", 21)}, "at most 20 characters"},
		{"bad shard mode", nil, []string{"run", "--repo", ".", "--shard-by", "zone"}, `run: --shard-by "zone": expected label or hash`},
		{"hash shards without a count", nil, []string{"run", "--repo", ".", "--shard-by", "hash"}, "run: --shard-by hash needs --shards N"},
		{"hash shard index out of range", map[string]string{"TETHER_SHARD_INDEX": "2"}, []string{"run", "--repo", ".", "--shard-by", "hash", "--shards", "2"}, "(got 2 of 2)"},
		{"hash shard with a name", nil, []string{"run", "--repo", ".", "--shard-by", "hash", "--shards", "2", "--shard", "a"}, "give no --shard"},
		{"shard count without hash", nil, []string{"run", "--repo", ".", "--shards", "2"}, "go with --shard-by hash"},
		{"instance and shard too long", nil, []string{"run", "--repo", ".", "--instance", strings.Repeat("i", 38), "--shard", "ab"}, `run: --instance with the shard "ab"`},
		{"argument to run", nil, []string{"run", "--repo", ".", "extra"}, `run: unexpected argument "extra"`},
		{"two directories", nil, []string{"render", bundles, bundles}, "render: expected at most one directory, got 2 arguments"},
		{"flag without value", nil, []string{"render", "--model"}, "render: flag needs an argument: --model"},
		{"bad version output", nil, []string{"version", "-o", "yaml"}, `version: --output "yaml": expected text or json`},
		{"unknown shell", nil, []string{"completion", "tcsh"}, `unknown command "tcsh" for "tether completion"`},
		{"no shell", nil, []string{"completion"}, `completion: missing command (see 'tether completion --help')`},
		{"admission-policy without --service-account", nil, []string{"admission-policy"}, `admission-policy: required flag(s) "service-account" not set`},
		{"bad service account", nil, []string{"admission-policy", "--service-account", "tether"}, `admission-policy: service account "tether": expected NAMESPACE/NAME`},
		{"bad admission mode", map[string]string{"TETHER_MODE": "block"}, []string{"admission-policy", "--service-account", "a/b"}, `admission-policy: mode "block": expected deny, warn or audit`},
		{"plan without --base", nil, []string{"plan"}, `plan: required flag(s) "base" not set`},
		{"bad plan format", nil, []string{"plan", "--base", "main", "--format", "html"}, `plan: --format "html": expected markdown, json, text`},
		{"too small --max-bytes", nil, []string{"plan", "--base", "main", "--max-bytes", "100"}, "plan: --max-bytes 100: expected 0 (no limit) or at least 2000"},
		{"bad plan --max-prune", nil, []string{"plan", "--base", "main", "--max-prune", "half"}, `plan: --max-prune "half": expected a percentage`},
		{"plan of a missing repository", nil, []string{"plan", "--base", "main", "--repo", "/does/not/exist"}, "plan: --repo /does/not/exist: no such directory"},
		{"plan of a folder that is no repository", nil, []string{"plan", "--base", "main", "--repo", "testdata"}, "plan: --repo testdata: not a Git repository"},
		{"plan --cluster without a cluster", nil, []string{"plan", "--base", "main", "--repo", "../..", "--cluster", "--kubeconfig", "/does/not/exist"}, "plan: --kubeconfig /does/not/exist"},
		{"bad environment value", map[string]string{"TETHER_PRUNE": "maybe"}, []string{"run", "--repo", "."}, `run: TETHER_PRUNE="maybe": invalid argument "maybe" for "--prune" flag`},
		{"bad environment duration", map[string]string{"TETHER_RESYNC": "often"}, []string{"run"}, `run: TETHER_RESYNC="often"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := run(t, tt.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr: %s", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.HasPrefix(stderr, "tether: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q, want one line \"tether: ...\" containing %q", stderr, tt.want)
			}
		})
	}
}

// TestEnvironment: TETHER_<FLAG> sets a flag the command line left alone.
func TestEnvironment(t *testing.T) {
	t.Setenv("TETHER_BRANCH", "release")
	t.Setenv("TETHER_MAX_PRUNE", "25")
	t.Setenv("TETHER_PRUNE", "false")
	t.Setenv("TETHER_NOTIFY_BATCH_WINDOW", "2s")
	t.Setenv("TETHER_LOG_LEVEL", "") // empty: unset
	cmd := newRunCommand()
	if err := cmd.ParseFlags([]string{"--repo", "/models", "--max-prune", "10%"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(cmd); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, name := range []string{"repo", "branch", "max-prune", "prune", "notify-batch-window", "log-level"} {
		got[name] = cmd.Flags().Lookup(name).Value.String()
	}
	want := map[string]string{"repo": "/models", "branch": "release", "max-prune": "10%", "prune": "false",
		"notify-batch-window": "2s", "log-level": "info"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}

// TestEnvironmentThroughCommands: the variables reach every command, and a
// required flag set from the environment counts as given.
func TestEnvironmentThroughCommands(t *testing.T) {
	bundles := filepath.Join(testdata, "bundles")
	t.Run("render --model from the environment, flag wins", func(t *testing.T) {
		t.Setenv("TETHER_MODEL", "nope")
		code, stdout, stderr := run(t, "render", bundles, "--model", "platform")
		if code != 0 || !strings.Contains(stdout, "kind: Namespace") {
			t.Errorf("exit %d, stderr %q; want the platform bundle", code, stderr)
		}
		code, _, stderr = run(t, "render", bundles)
		if code != 1 || !strings.Contains(stderr, `model "nope" not found`) {
			t.Errorf("exit %d, stderr %q; want model nope from TETHER_MODEL", code, stderr)
		}
	})
	t.Run("version --output from the environment", func(t *testing.T) {
		t.Setenv("TETHER_OUTPUT", "json")
		if _, stdout, _ := run(t, "version"); !strings.Contains(stdout, `"goVersion"`) {
			t.Errorf("stdout %q, want JSON", stdout)
		}
	})
	t.Run("TETHER_REPO satisfies the required --repo", func(t *testing.T) {
		t.Setenv("TETHER_REPO", t.TempDir())
		t.Setenv("TETHER_DRIFT", "sometimes") // stops the daemon before it starts
		if _, _, stderr := run(t, "run"); !strings.Contains(stderr, `--drift "sometimes"`) {
			t.Errorf("stderr %q, want the --drift check (past the --repo check)", stderr)
		}
	})
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{"repo": "TETHER_REPO", "git-ssh-key-file": "TETHER_GIT_SSH_KEY_FILE", "max-prune": "TETHER_MAX_PRUNE"} {
		if got := envName(flag); got != want {
			t.Errorf("envName(%q) = %q, want %q", flag, got, want)
		}
	}
}
