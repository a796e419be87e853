// Package plan works out what merging a pull request would do: `tether plan`.
//
// Load writes the merge base of the base ref and the head, and the head, from
// a repository on disk into temporary folders (source.Local) and renders each
// with the daemon's code (render.Repository, tether.yaml merged with the
// flags). Offline compares the two renders: per unit added, changed, removed,
// unchanged, invalid or suspended; per object create, update, delete (prune)
// or unchanged, with a unified diff of the YAML in which a Secret's values are
// <hidden>; training Jobs are content-addressed, so a changed training spec is
// a new run and the previous one is kept (keepRuns), never updated. It checks
// fields the API server will not let change, warns about unpinned images, adds
// up GPUs, CPU, memory and replicas (autoscaler ranges included) per unit and
// one training run's cost, and applies the daemon's mass-deletion guard
// (reconcile.PruneLimit) with the base's objects as the managed ones.
//
// Live does the same against the cluster (the --cluster flag): the head's
// objects are server-side dry-run applied as the daemon would apply them
// (reconcile.Stamp, Applier.DryRunApply: field manager tether, forced, in
// apply order) and diffed against live state, drift that the merge would undo
// is named with the field manager that made it (reconcile.DetectDrift against
// the inventory's records), prune candidates and the guard come from the
// in-cluster inventory, and a failed dry-run is a blocker. It writes nothing.
//
// A Plan formats itself as Markdown (a pull-request comment, cut to a size),
// Text or JSON, and says its exit code. The package neither logs nor prints.
//
//	base, head, err := plan.Load(ctx, plan.Source{Dir: ".", Base: "origin/main", Head: "HEAD"})
//	p := plan.Offline(base, head, plan.Options{MaxPrune: limit})
//	fmt.Print(p.Markdown(60000, "plan.md")); os.Exit(p.ExitCode)
package plan
