package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tether-ml/tether/render"
)

func renderFlags(name string, args []string) (dir string, opts render.Options, model string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&opts.DefaultNamespace, "default-namespace", "default", "namespace for models that name none (tether.yaml's defaultNamespace wins)")
	fs.BoolVar(&opts.RequireDigest, "require-digest", false, "require images pinned by digest (on if tether.yaml says so)")
	if name == "render" {
		fs.StringVar(&model, "model", "", "render only this model (or bundle)")
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

// renderCommand prints the YAML stream of every bundle and model (or one), in
// the deterministic order tether applies them. If any of them is invalid it
// prints nothing and fails with every error, so a pipe into kubectl never
// applies half a repository.
func renderCommand(args []string, stdout io.Writer) error {
	dir, opts, model, err := renderFlags("render", args)
	if err != nil {
		return err
	}
	res, err := render.Repository(dir, opts)
	if err != nil {
		return fmt.Errorf("%s is invalid:\n%w", render.SettingsFile, err)
	}
	units := res.Units
	if model != "" {
		units = selectUnit(units, model)
		if units == nil {
			return fmt.Errorf("model %q not found under %s/%s or in bundles", model, dir, render.ModelsDir)
		}
	}
	var invalid []string
	for _, u := range units {
		if u.Err != nil {
			invalid = append(invalid, u.Err.Error())
		}
	}
	if len(invalid) > 0 {
		return errors.New("invalid, nothing rendered:\n" + strings.Join(invalid, "\n"))
	}
	w := bufio.NewWriter(stdout)
	if err := render.WriteUnits(w, units); err != nil {
		return err
	}
	return w.Flush()
}

func selectUnit(units []render.Unit, name string) []render.Unit {
	for _, u := range units {
		if u.Name == name {
			return []render.Unit{u}
		}
	}
	return nil
}

// validateCommand prints every problem of tether.yaml, every bundle and every
// model (warnings too) and exits 1 on any error, 0 when all are valid.
func validateCommand(args []string, stdout io.Writer) error {
	dir, opts, _, err := renderFlags("validate", args)
	if err != nil {
		return err
	}
	res, err := render.Repository(dir, opts)
	if err != nil {
		fmt.Fprintln(stdout, err)
		fmt.Fprintf(stdout, "%s is invalid: nothing of this revision would be applied or pruned\n", render.SettingsFile)
		return exitCode(1)
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
		fmt.Fprintf(stdout, "%d of %d units invalid\n", bad, len(res.Units))
		return exitCode(1)
	}
	fmt.Fprintf(stdout, "%s valid\n", count(res.Units))
	return nil
}

// count describes units as "3 models" or "3 models, 2 bundles".
func count(units []render.Unit) string {
	models, bundles := 0, 0
	for _, u := range units {
		if u.Kind == render.KindBundleUnit {
			bundles++
		} else {
			models++
		}
	}
	if bundles == 0 {
		return fmt.Sprintf("%d models", models)
	}
	return fmt.Sprintf("%d models, %d bundles", models, bundles)
}
