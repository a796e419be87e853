// Package reconcile makes the cluster equal what was rendered from Git and keeps
// it so.
//
// It server-side applies each rendered unit (field manager "tether", conflicts
// forced), skips objects whose content did not change, watches everything it
// applied and reverts, or reports, changes made by anyone else. Outcomes leave
// the package as typed Events; the caller decides where they go. It knows the
// cluster, not Git or model specs: the loop takes a Source and a Renderer.
//
//	applier, _ := reconcile.NewApplier(restConfig)
//	loop := reconcile.NewLoop(reconcile.Config{Source: repo, Render: renderFn, Applier: applier, Interval: time.Minute})
//	err := loop.Run(ctx)
package reconcile
