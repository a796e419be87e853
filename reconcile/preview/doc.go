// Package preview runs preview environments: every ref matching
// --preview-refs (refs/pull/*/head) gets the serving objects of its models in
// namespaces of its own (<namespace>-pr-<id>), kept in sync with the ref and
// free of drift, and torn down when the ref goes, stops moving for
// --preview-ttl, or loses its place to --preview-max (PRODUCT.md §4).
//
// Each poll is one source.RefSet.List. Select (pure) decides which refs get a
// preview: live refs, lowest ids first, at most Max. Each preview is a
// reconcile.Loop of its own: its Source checks the preview's head out of the
// RefSet (no network), its Renderer is render.RenderPreview with the tracked
// branch's settings (SetSettings; a pull request's own tether.yaml is never
// read), guarded so that every object lands in the preview's namespaces and
// no namespace that is not the preview's is taken over, and its Inventory has
// the instance <instance>-pr-<id>: its records, ownership checks and
// mass-deletion guard are its own by construction, and the tracked branch's
// loop never sees them. Teardown drives a fresh loop of the preview's
// instance with Loop.Once: a pass rendering only the (suspended) namespaces
// deletes the models' objects through the inventory, a pass rendering
// nothing deletes the namespaces and their quotas. After a restart, previews
// are found by their namespaces' labels (tether.dev/preview-of) and their
// records' instances, and those whose refs are gone are torn down the same
// way.
//
// It never logs what becomes an event; events carry Event.Preview.
//
//	m := preview.New(preview.Config{Refs: refs, Applier: applier, Instance: instance, ...})
//	m.SetSettings(res.Settings) // after each render of the tracked branch
//	go m.Run(ctx)
package preview
