package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/help")

// allCommands is every command of tether's tree, tether itself first.
func allCommands(root *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{root}
	for _, sub := range root.Commands() {
		out = append(out, allCommands(sub)...)
	}
	return out
}

// commandArgs is the arguments that name cmd: ["completion", "bash"].
func commandArgs(cmd *cobra.Command) []string {
	return strings.Fields(strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()))
}

// TestHelpGolden renders `--help` of every registered command into
// testdata/help/<command path>.golden; `go test -update` rewrites them.
func TestHelpGolden(t *testing.T) {
	for _, cmd := range allCommands(newRootCommand(io.Discard, io.Discard)) {
		name := strings.ReplaceAll(cmd.CommandPath(), " ", "_")
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := run(t, append(commandArgs(cmd), "--help")...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			golden := filepath.Join("testdata", "help", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if diff := cmp.Diff(string(want), stdout); diff != "" {
				t.Errorf("%s --help differs from %s (-want +got):\n%s", cmd.CommandPath(), golden, diff)
			}
		})
	}
}

// TestHelpShape: each of tether's own commands has a summary, a description
// and examples, and groups either all of its flags or none.
func TestHelpShape(t *testing.T) {
	for _, newCommand := range commands {
		cmd := newCommand()
		t.Run(cmd.Name(), func(t *testing.T) {
			if cmd.Short == "" || cmd.Long == "" || cmd.Example == "" {
				t.Errorf("summary %q, description %d bytes, examples %d bytes: want all three", cmd.Short, len(cmd.Long), len(cmd.Example))
			}
			var grouped, ungrouped []string
			cmd.Flags().VisitAll(func(f *pflag.Flag) {
				if flagGroup(f) == "" {
					ungrouped = append(ungrouped, f.Name)
				} else {
					grouped = append(grouped, f.Name)
				}
			})
			if len(grouped) > 0 && len(ungrouped) > 0 {
				t.Errorf("flags %v have no group while %v have one", ungrouped, grouped)
			}
		})
	}
}

// TestCompletion: the scripts for bash, zsh and fish are generated for tether.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "complete -o default -F __start_tether tether",
		"zsh":  "#compdef tether",
		"fish": "complete -c tether ",
	} {
		t.Run(shell, func(t *testing.T) {
			code, stdout, stderr := run(t, "completion", shell)
			if code != 0 || !strings.Contains(stdout, want) {
				t.Errorf("exit %d, stderr %q; script lacks %q", code, stderr, want)
			}
		})
	}
}

// TestFlagCompletion: flag values complete from their fixed choices.
func TestFlagCompletion(t *testing.T) {
	code, stdout, _ := run(t, cobra.ShellCompRequestCmd, "run", "--drift", "")
	if code != 0 || !strings.HasPrefix(stdout, "revert\nreport\n") {
		t.Errorf("exit %d, completions %q; want revert and report", code, stdout)
	}
}
