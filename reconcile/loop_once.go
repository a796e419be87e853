package reconcile

import "context"

// This file drives a Loop pass by pass instead of with Run, for callers that
// decide themselves when a pass is due: preview teardown (reconcile/preview)
// renders less and less until a preview's inventory is empty.

// Once runs one pass of the loop's steps (fetch, render, apply, prune, save
// records, health, report) on a loop that Run is not running. The first call
// reads the inventory and watches what it lists, under ctx; later calls
// continue from where the last pass left. No drift worker and no resync run.
func (l *Loop) Once(ctx context.Context) {
	if !l.ready.Load() {
		l.watcher.start(ctx)
		if err := l.loadRecords(ctx); err != nil || ctx.Err() != nil {
			return
		}
	}
	l.cycle(ctx)
}

// Units lists the units the loop holds state of: those its inventory
// recorded or its passes rendered, until their records are deleted.
func (l *Loop) Units() []string { return l.state.unitNames() }
