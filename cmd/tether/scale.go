package main

import (
	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// incrementalRenderer renders each revision with render.Incremental: only the
// units whose inputs changed since the last revision are rendered (issue 15).
func incrementalRenderer(opts render.Options) reconcile.Renderer {
	inc := render.NewIncremental(opts)
	return func(snap source.Snapshot, keep func(*render.Unit) bool) (*render.Result, error) {
		return inc.Render(snap.Dir, snap, keep)
	}
}
