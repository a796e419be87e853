package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/tether-ml/tether/render"
)

func renderFlags(name string, args []string) (dir string, opts render.Options, model string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&opts.DefaultNamespace, "default-namespace", "default", "namespace for models that name none")
	fs.BoolVar(&opts.RequireDigest, "require-digest", false, "require images pinned by digest")
	if name == "render" {
		fs.StringVar(&model, "model", "", "render only this model")
	}
	if err = parseFlags(fs, interleave(args)); err != nil {
		return
	}
	if fs.NArg() > 1 {
		err = usagef("%s: expected at most one directory, got %d arguments", name, fs.NArg())
		return
	}
	dir = "."
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	opts.DefaultDrift = render.DriftRevert
	return
}

// interleave moves a leading positional DIR after the flags, so both
// `tether render DIR --model x` and `tether render --model x DIR` work.
func interleave(args []string) []string {
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		return append(append([]string{}, args[1:]...), args[0])
	}
	return args
}

// renderCommand prints the YAML stream of every valid model (or one), in the
// deterministic order tether applies it. Invalid models fail the command.
func renderCommand(args []string, stdout io.Writer) error {
	dir, opts, model, err := renderFlags("render", args)
	if err != nil {
		return err
	}
	res, err := render.Repository(dir, opts)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	found := false
	for _, u := range res.Units {
		if model != "" && u.Name != model {
			continue
		}
		found = true
		if u.Err != nil {
			return fmt.Errorf("model %s is invalid:\n%w", u.Name, u.Err)
		}
		for _, obj := range u.Objects {
			data, err := yaml.Marshal(obj.Object)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "---\n%s", data)
		}
	}
	if model != "" && !found {
		return fmt.Errorf("model %q not found under %s/%s", model, dir, render.ModelsDir)
	}
	return nil
}

// validateCommand prints every problem of every model and exits 1 on any.
func validateCommand(args []string, stdout io.Writer) error {
	dir, opts, _, err := renderFlags("validate", args)
	if err != nil {
		return err
	}
	res, err := render.Repository(dir, opts)
	if err != nil {
		return err
	}
	bad := 0
	for _, u := range res.Units {
		for _, warn := range u.Warnings {
			fmt.Fprintln(stdout, "warning:", warn)
		}
		if u.Err != nil {
			bad++
			fmt.Fprintln(stdout, u.Err)
		}
	}
	if bad > 0 {
		fmt.Fprintf(stdout, "%d of %d models invalid\n", bad, len(res.Units))
		return exitCode(1)
	}
	fmt.Fprintf(stdout, "%d models valid\n", len(res.Units))
	return nil
}
