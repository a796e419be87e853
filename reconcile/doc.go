// Package reconcile makes the cluster equal what was rendered from Git and keeps
// it so.
//
// A Loop runs passes of small steps, one file each: fetch (loop_fetch.go),
// render (loop_render.go), apply (loop_apply.go), prune (loop_prune.go), save the
// inventory records (loop_record.go), drop the records taken over from
// another shard (loop_shard.go), roll up health (loop_health.go) and report
// (loop.go). Each step returns whether the pass stops and why. The render
// step keeps each unit's encoded objects, so a unit the Renderer reuses
// (render.Incremental: its inputs did not change) costs nothing, and moves
// models between the shards of one deployment: the shard a model leaves
// forgets it without pruning, the shard it joins takes its record over. Drift
// workers (loop_drift.go) take the objects the Watcher (watcher.go) queues,
// compare them with what was applied and revert or report the difference.
// The API client is the Applier (applier.go); the inventory's ConfigMaps are
// the Inventory (inventory.go). Pure functions that need no cluster sit in
// their own files: DetectDrift (drift.go), ObjectHealth and Rollup
// (health.go), PruneLimit (prune_limit.go), retainRuns (runs.go).
//
// Every outcome leaves the package once, as a typed Event with an Action; the
// caller decides what is logged and notified. The package logs only what never
// becomes an event. It knows the cluster, not Git or model specs: the loop
// takes a Source and a Renderer.
//
//	applier, _ := reconcile.NewApplier(restConfig)
//	loop := reconcile.NewLoop(reconcile.Config{Source: repo, Render: renderFn, Applier: applier, Interval: time.Minute})
//	err := loop.Run(ctx)
package reconcile
