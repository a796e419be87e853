package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/plan"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// planFlags are the flags of `tether plan`.
type planFlags struct {
	src                            plan.Source
	models                         []string
	cluster                        bool
	kubeconfig, inventoryNamespace string
	instance                       string
	maxPrune                       string
	format, output                 string
	maxBytes                       int
}

// minMaxBytes keeps room for the summary, the blockers and the truncation note.
const minMaxBytes = 2000

const planExample = `  # What a pull request changes, as a comment for it (the merge base of origin/main and HEAD vs HEAD)
  tether plan --repo . --base origin/main --head HEAD --output plan-full.md > comment.md

  # Against the live cluster: server-side dry-run, drift, prunes from the inventory
  tether plan --repo . --base origin/main --cluster --kubeconfig ~/.kube/config --default-namespace ml

  # One model, for a terminal or for tools
  tether plan --repo . --base main --model fraud-detector --format text
  tether plan --repo . --base main --format json | jq .summary`

func newPlanCommand() *cobra.Command {
	f := &planFlags{}
	cmd := &cobra.Command{
		Use:   "plan --base REF",
		Short: "Show what merging a pull request would change",
		Long: `Render the merge base of --base and --head, and --head, of the Git repository in --repo with
the daemon's code and print what merging would do: models added, changed, removed or invalid; per
object a unified diff (Secret values hidden); warnings (unpinned images, immutable fields the API
server would refuse, prunes and the mass-deletion guard); resource deltas (GPU, CPU, memory,
replicas, one training run). With --cluster the head is server-side dry-run applied against the
cluster and diffed against live state (drift that merging would undo shows); nothing is written.

The working tree of --repo is never read or changed: both revisions come from its Git objects.
Exit codes as terraform plan -detailed-exitcode: 0 nothing changes, 2 something is created,
changed or pruned (or live drift would be undone), 1 an invalid model, an error, an
immutable-field conflict or a blocked mass prune. A bad invocation also exits 2, with nothing on
stdout.`,
		Example: planExample,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return runPlan(cmd.Context(), f, cmd.OutOrStdout())
		},
	}
	f.register(cmd)
	return cmd
}

func (f *planFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.src.Dir, "repo", ".", "the Git repository's top-level `DIR` (a CI checkout); only its Git objects are read, never its working tree")
	fs.StringVar(&f.src.Base, "base", "", "the branch the pull request targets, a `REF` such as origin/main; the plan starts from its merge base with --head")
	fs.StringVar(&f.src.Head, "head", "HEAD", "the pull request's revision, a `REF`: a branch, tag or commit")
	fs.StringVar(&f.src.Path, "path", "", "subfolder of the repository that holds models/, as the daemon's --path")
	setGroup(fs, groupGit, "repo", "base", "head", "path")
	fs.StringArrayVar(&f.models, "model", nil, "plan only the model (or bundle) called `NAME`; repeat for more (the prune guard still counts the whole revision)")
	fs.StringVar(&f.src.Render.DefaultNamespace, "default-namespace", "default", "namespace of models that name none, as the daemon's flag (tether.yaml's defaultNamespace wins)")
	fs.BoolVar(&f.src.Render.RequireDigest, "require-digest", false, "make models whose images are not pinned by @sha256: digest invalid, as the daemon's flag (also on when tether.yaml sets requireDigest)")
	setGroup(fs, groupModels, "model", "default-namespace", "require-digest")
	fs.BoolVar(&f.cluster, "cluster", false, "diff against the live cluster: server-side dry-run apply of the head, drift, prunes from the inventory (writes nothing)")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` for --cluster (default: the in-cluster service account)")
	fs.StringVar(&f.inventoryNamespace, "inventory-namespace", "", "namespace of the daemon's inventory ConfigMaps, for --cluster (default: --default-namespace)")
	fs.StringVar(&f.instance, "instance", "", "the daemon's --instance whose records --cluster reads (default: the only instance with records in --inventory-namespace)")
	setGroup(fs, groupCluster, "cluster", "kubeconfig", "inventory-namespace", "instance")
	fs.StringVar(&f.maxPrune, "max-prune", "50%", "the daemon's --max-prune: a share of the managed objects (never blocking fewer than 10 deletions) or a count; a plan over it exits 1")
	setGroup(fs, groupDrift, "max-prune")
	fs.StringVar(&f.format, "format", "markdown", "output format: markdown (a pull-request comment), json or text")
	fs.StringVar(&f.output, "output", "", "also write the whole plan, never cut, to `FILE`")
	fs.IntVar(&f.maxBytes, "max-bytes", 60000, "cut the markdown printed to this many bytes, closing what is open and saying what was left out (0: never; GitHub allows 65536 characters per comment)")
	setGroup(fs, groupOutput, "format", "output", "max-bytes")
	if err := cmd.MarkFlagRequired("base"); err != nil {
		panic(err)
	}
	registerCompletion(cmd, "format", completeWords(plan.Formats...))
	_ = cmd.MarkFlagDirname("repo")
	_ = cmd.MarkFlagFilename("kubeconfig")
	_ = cmd.MarkFlagFilename("output")
}

// check validates what the flags' types do not.
func (f *planFlags) check() error {
	if !slices.Contains(plan.Formats, f.format) {
		return usagef("plan: --format %q: expected %s", f.format, strings.Join(plan.Formats, ", "))
	}
	if f.maxBytes < 0 || (f.maxBytes > 0 && f.maxBytes < minMaxBytes) {
		return usagef("plan: --max-bytes %d: expected 0 (no limit) or at least %d", f.maxBytes, minMaxBytes)
	}
	if _, err := reconcile.ParsePruneLimit(f.maxPrune); err != nil {
		return usagef("plan: --max-prune %v", err)
	}
	if fi, err := os.Stat(f.src.Dir); err != nil || !fi.IsDir() {
		return usagef("plan: --repo %s: no such directory", f.src.Dir)
	}
	if _, err := source.OpenLocal(f.src.Dir); err != nil {
		return usagef("plan: --repo %v", err)
	}
	if f.inventoryNamespace == "" {
		f.inventoryNamespace = f.src.Render.DefaultNamespace
	}
	f.src.Render.DefaultDrift = render.DriftRevert
	return nil
}

// runPlan renders both revisions, plans them (against the cluster with
// --cluster) and prints the plan. The plan's exit code is the command's.
func runPlan(ctx context.Context, f *planFlags, stdout io.Writer) error {
	cluster, err := f.clusterClients()
	if err != nil {
		return err
	}
	base, head, err := plan.Load(ctx, f.src)
	if err != nil {
		return err
	}
	limit, _ := reconcile.ParsePruneLimit(f.maxPrune)
	opts := plan.Options{MaxPrune: limit, Models: f.models, Path: f.src.Path}
	var p *plan.Plan
	if cluster == nil {
		p = plan.Offline(base, head, opts)
	} else if p, err = plan.Live(ctx, base, head, opts, *cluster); err != nil {
		return err
	}
	if err := f.write(p, stdout); err != nil {
		return err
	}
	if p.ExitCode != plan.ExitNoChanges {
		return exitCode(p.ExitCode)
	}
	return nil
}

// clusterClients reads --kubeconfig for --cluster; nil without --cluster.
func (f *planFlags) clusterClients() (*plan.Cluster, error) {
	if !f.cluster {
		return nil, nil
	}
	cfg, err := restConfig("plan", f.kubeconfig, 50, 100)
	if err != nil {
		return nil, err
	}
	applier, err := reconcile.NewApplier(cfg)
	if err != nil {
		return nil, err
	}
	instance, err := f.daemonInstance(applier)
	if err != nil {
		return nil, err
	}
	return &plan.Cluster{Applier: applier, Inventory: reconcile.NewInventoryReader(applier, f.inventoryNamespace, instance)}, nil
}

// daemonInstance is --instance or, without it, the one instance whose records
// are in the inventory namespace (any name when there are none yet).
func (f *planFlags) daemonInstance(applier *reconcile.Applier) (string, error) {
	if f.instance != "" {
		return f.instance, nil
	}
	found, err := reconcile.Instances(context.Background(), applier, f.inventoryNamespace)
	switch {
	case err != nil:
		return "", err
	case len(found) > 1:
		return "", fmt.Errorf("--cluster: records of several daemons in %s (%s): say which with --instance", f.inventoryNamespace, strings.Join(found, ", "))
	case len(found) == 1:
		return found[0], nil
	}
	return "none", nil
}

// write writes the whole plan to --output and prints it, cut to --max-bytes.
func (f *planFlags) write(p *plan.Plan, stdout io.Writer) error {
	if f.output != "" {
		full, err := p.Format(f.format, 0, "")
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.output, full, 0o644); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
	}
	shown, err := p.Format(f.format, f.maxBytes, f.output)
	if err != nil {
		return err
	}
	_, err = stdout.Write(shown)
	return err
}
