package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tether-ml/tether/e2e/cluster"
)

const usage = "usage: localcluster build | up --dir DIR [--nodes N] | down --dir DIR | env --dir DIR"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	verbs := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"build": build, "up": up, "down": down, "env": env,
	}
	verb, ok := verbs[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
	return verb(ctx, args[1:], stdout, stderr)
}

func build(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	binDir, err := cluster.Build(ctx, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, binDir)
	return nil
}

func up(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dir := fs.String("dir", "", "state dir (required)")
	nodes := fs.Int("nodes", 2, "number of fake nodes")
	if err := parse(fs, args, dir); err != nil {
		return err
	}
	c, err := cluster.Start(ctx, cluster.Options{Dir: *dir, Nodes: *nodes, Detach: true, Log: stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "localcluster: up in %s (API ready after %s), logs in %s\n",
		c.Ready.Round(time.Millisecond), c.APIReady.Round(time.Millisecond), filepath.Join(c.Dir, "logs"))
	fmt.Fprintln(stdout, c.Kubeconfig)
	return nil
}

func down(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("down", flag.ContinueOnError)
	dir := fs.String("dir", "", "state dir (required)")
	if err := parse(fs, args, dir); err != nil {
		return err
	}
	return cluster.Down(*dir)
}

func env(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	dir := fs.String("dir", "", "state dir (required)")
	if err := parse(fs, args, dir); err != nil {
		return err
	}
	running, err := cluster.Running(*dir)
	if err != nil {
		return err
	}
	if !running {
		return fmt.Errorf("no cluster running in %s", *dir)
	}
	binDir, err := cluster.Build(ctx, stderr)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "export KUBECONFIG=%s\nexport PATH=%s:$PATH\n",
		filepath.Join(abs, "kubeconfig"), binDir)
	return nil
}

// parse parses a verb's flags and requires --dir.
func parse(fs *flag.FlagSet, args []string, dir *string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() != 0 {
		return errors.New(usage)
	}
	return nil
}
