// Package render turns one checkout of a models repository into the Kubernetes
// objects tether applies, as isolated units.
//
// It reads tether.yaml (repository settings), renders each models/<name>/model.yaml
// (kind Model, apiVersion tether.dev/v1alpha1) into training (Job or CronJob)
// and serving (Deployment, Service, HorizontalPodAutoscaler) objects with
// tether's labels and annotations, builds them through models/<name>/kustomization.yaml
// when there is one, and builds the bundles tether.yaml lists. Specs are
// decoded strictly and every problem is returned with file, line and field. A
// broken model or bundle carries its error and never stops the others; an
// invalid tether.yaml fails the whole revision.
//
// Kustomize (sigs.k8s.io/kustomize/api/krusty) runs on an in-memory copy of the
// unit's folder and its declared components, so it never writes the checkout.
// Before it runs, every kustomization is checked: nothing outside the unit's
// folder except components, no remote bases or URLs (nothing is ever fetched),
// no Helm, no plugins or exec/container KRM functions, no symlinks leaving the
// folder, no custom OpenAPI schema, and no YAML alias in any file or inline
// value kustomize parses (kyaml expands them all: a few hundred bytes could
// take gigabytes). A models/ folder that is a symlink fails the revision; a
// bundle under a symlinked folder fails alone. Builds are serialised
// (kustomize's global state is not safe for concurrent use), a kustomize panic
// becomes an error, and the in-memory copies of all units rendering at once
// share one memory budget (64 MiB per unit, 128 MiB in all; a unit waits for
// room).
//
// RenderPreview renders a pull request's revision as a preview environment
// (preview.go): its models only, with the tracked branch's settings (the
// revision's own tether.yaml is never read), serving objects at one replica
// in <namespace>-pr-<id>, GPUs within preview.maxGPUs, and a unit holding
// the preview's namespaces and ResourceQuotas.
//
// Incremental renders one revision after another and renders a unit again
// only when its inputs changed: its folder and the components it read, by
// the content hashes a Tree gives (source.Snapshot reads them from the Git
// tree), tether.yaml as decoded, the options and the rendering code. An
// unchanged unit comes back Reused, without its objects, which the caller
// kept from before. ForShard makes it render one shard's units only: models
// labelled tether.dev/shard (or, hashed, whose name hashes to the shard), the
// unsharded instance taking the unlabelled models and the bundles.
//
// Sync windows (windows.go) are pure functions of the settings and an instant:
// whether a model may sync, whether its drift is reverted, and when that next
// changes, in the window's time zone with daylight saving time handled as
// cron(8) does. Unit.Lineage says what a model's objects trace back to.
//
// render knows nothing of Git or the cluster, and never logs: warnings are
// returned in Unit.Warnings.
//
//	res, err := render.Repository(dir, render.Options{DefaultNamespace: "ml"})
//	for _, u := range res.Units { if u.Err != nil { ...; continue }; apply(u.Objects) }
//	if v := res.Settings.WindowsFor(u.Name).Verdict(time.Now()); !v.Sync { ... }
//	inc := render.NewIncremental(opts); res, err = inc.Render(snap.Dir, snap, render.Hooks{Keep: keep})
package render
