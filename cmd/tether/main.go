package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// commands are the constructors of tether's commands. A new command is one
// file with its constructor, listed here; help, completion, the environment
// variables and the help golden test pick it up from the tree.
var commands = []func() *cobra.Command{
	newRunCommand,
	newRenderCommand,
	newValidateCommand,
	newAdmissionPolicyCommand,
	newPlanCommand,
	newStatusCommand,
	newVersionCommand,
}

// usageError is a mistake in how tether was invoked: one line on stderr, exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitCode lets a command choose its exit status without printing an error.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// ranError marks an error a command's body returned. Every other error cobra
// returns is about the invocation (unknown command or flag, bad value, missing
// flag or argument) and exits 2.
type ranError struct{ err error }

func (e ranError) Error() string { return e.err.Error() }
func (e ranError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(report(err, os.Stderr))
}

// execute runs the command args name. It returns the command's own error as
// is, and any mistake in the invocation as a usageError.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	var ran ranError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ran):
		return ran.err
	case errors.As(err, new(usageError)):
		return err
	}
	return usageError{commandPrefix(cmd) + err.Error()}
}

// newRootCommand builds tether's command tree writing to stdout and stderr
// (set first: cobra's completion command keeps the writer it sees).
func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "tether",
		Short: "GitOps for machine-learning models on Kubernetes",
		Long: `tether keeps one folder per model in a Git repository, renders each into training and serving
resources, server-side applies them, and reverts drift within a second.`,
		Example: `  tether run --repo https://git.example.com/ml/models.git --kubeconfig ~/.kube/config
  tether render ./models-repo --model fraud-detector
  tether validate ./models-repo
  tether plan --repo . --base origin/main --head HEAD --output plan.md`,
		Args:              unknownCommand,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return applyEnv(cmd) },
		SilenceUsage:      true,
		SilenceErrors:     true,
	}
	root.SuggestionsMinimumDistance = 2
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{commandPrefix(cmd) + err.Error()} })
	root.SetUsageFunc(writeUsage)
	for _, newCommand := range commands {
		cmd := newCommand()
		cmd.Flags().SortFlags = false
		root.AddCommand(cmd)
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	markRan(root)
	return root
}

// markRan wraps the body of cmd and of every command below it, so that
// execute tells the body's errors from cobra's. A command that only groups
// others (tether completion) gets a body that asks for one of them: cobra
// would print help and exit 0.
func markRan(cmd *cobra.Command) {
	if !cmd.Runnable() && cmd.HasSubCommands() {
		cmd.RunE = func(cmd *cobra.Command, _ []string) error {
			return usagef("%smissing command (see '%s --help')", commandPrefix(cmd), cmd.CommandPath())
		}
	} else if body := cmd.RunE; body != nil {
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if err := body(cmd, args); err != nil {
				return ranError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		markRan(sub)
	}
}

// unknownCommand is the root's argument check: any argument names a command
// that does not exist.
func unknownCommand(root *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q (see 'tether --help')", args[0])
	if s := root.SuggestionsFor(args[0]); len(s) > 0 {
		msg = fmt.Sprintf("unknown command %q; did you mean %q?", args[0], s[0])
	}
	return usageError{msg}
}

// noArgs is the argument check of commands that take none.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%sunexpected argument %q", commandPrefix(cmd), args[0])
	}
	return nil
}

// maxOneDir is the argument check of commands that take an optional DIR.
func maxOneDir(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usagef("%sexpected at most one directory, got %d arguments", commandPrefix(cmd), len(args))
	}
	return nil
}

// commandPrefix is "run: " for `tether run`, "" for tether itself.
func commandPrefix(cmd *cobra.Command) string {
	if cmd == nil || !cmd.HasParent() {
		return ""
	}
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ") + ": "
}

// report prints err (if any) and returns the process exit code.
func report(err error, stderr io.Writer) int {
	var code exitCode
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "tether:", ue.msg)
		return 2
	}
	fmt.Fprintln(stderr, "tether:", err)
	return 1
}
