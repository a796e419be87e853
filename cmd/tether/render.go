package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-ml/tether/render"
)

// renderOptions are the flags render and validate share.
func renderOptions(cmd *cobra.Command, opts *render.Options) {
	fs := cmd.Flags()
	fs.StringVar(&opts.DefaultNamespace, "default-namespace", "default", "namespace of models that name none (tether.yaml's defaultNamespace wins)")
	fs.BoolVar(&opts.RequireDigest, "require-digest", false, "make models whose images are not pinned by @sha256: digest invalid (also on when tether.yaml sets requireDigest)")
	setGroup(fs, groupModels, "default-namespace", "require-digest")
	opts.DefaultDrift = render.DriftRevert
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
}

func newRenderCommand() *cobra.Command {
	var opts render.Options
	var model string
	cmd := &cobra.Command{
		Use:   "render [DIR]",
		Short: "Print the objects a models repository renders to",
		Long: `Render every bundle and model of the models repository in DIR (default: the current directory)
offline, and print the YAML stream in the order tether applies it. If any selected model is invalid,
nothing is printed and the command exits 1 with every error, so a pipe into kubectl never applies
half a repository.`,
		Example: `  tether render ./models-repo
  tether render ./models-repo --model fraud-detector`,
		Args: maxOneDir,
		RunE: func(cmd *cobra.Command, args []string) error {
			return renderRepository(repoDir(args), opts, model, cmd.OutOrStdout())
		},
	}
	renderOptions(cmd, &opts)
	cmd.Flags().StringVar(&model, "model", "", "render only the model (or bundle) called `NAME`")
	setGroup(cmd.Flags(), groupModels, "model")
	return cmd
}

func newValidateCommand() *cobra.Command {
	var opts render.Options
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check every model spec and print all errors",
		Long: `Check tether.yaml, every bundle and every model of the models repository in DIR (default: the
current directory) offline. Every problem is printed as file:line: field: what is wrong and what was
expected, warnings (such as images not pinned by digest) too. Exits 1 on any error, 0 when all are
valid.`,
		Example: `  tether validate ./models-repo
  tether validate --require-digest ./models-repo`,
		Args: maxOneDir,
		RunE: func(cmd *cobra.Command, args []string) error {
			return validateRepository(repoDir(args), opts, cmd.OutOrStdout())
		},
	}
	renderOptions(cmd, &opts)
	return cmd
}

// repoDir is the directory argument of render and validate.
func repoDir(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

// renderRepository prints the YAML stream of every bundle and model (or one),
// in the deterministic order tether applies them. If any of them is invalid it
// prints nothing and fails with every error, so a pipe into kubectl never
// applies half a repository.
func renderRepository(dir string, opts render.Options, model string, stdout io.Writer) error {
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

// validateRepository prints every problem of tether.yaml, every bundle and
// every model (warnings too) and exits 1 on any error, 0 when all are valid.
func validateRepository(dir string, opts render.Options, stdout io.Writer) error {
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
