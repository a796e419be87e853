package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// usageError is a mistake in how tether was invoked: one line on stderr, exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitCode lets a command choose its exit status without printing an error.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

const usage = `usage: tether <command> [flags]

commands:
  run       reconcile a models repository into the cluster (the daemon)
  render    print the objects a models repository renders to
  validate  check every model spec and print all errors
  version   print the version`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(report(err, os.Stderr))
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("missing command\n%s", usage)
	}
	switch args[0] {
	case "run":
		return runCommand(ctx, args[1:], stderr)
	case "render":
		return renderCommand(args[1:], stdout)
	case "validate":
		return validateCommand(args[1:], stdout)
	case "version":
		_, err := fmt.Fprintln(stdout, "tether", version)
		return err
	case "-h", "--help", "help":
		_, err := fmt.Fprintln(stdout, usage)
		return err
	}
	return usagef("unknown command %q\n%s", args[0], usage)
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

// parseFlags parses args with fs, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return exitCode(0)
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}
