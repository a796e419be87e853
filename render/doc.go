// Package render turns a models repository into the Kubernetes objects tether applies.
//
// It reads models/<name>/model.yaml (kind Model, apiVersion tether.dev/v1alpha1),
// validates each spec and renders it into training (Job or CronJob) and serving
// (Deployment, Service, HorizontalPodAutoscaler) objects with tether's labels and
// annotations. Each model is an isolated Unit: a broken model carries its error and
// never stops the others. render knows nothing of Git or the cluster, and never logs.
//
//	units := render.Repository(dir, render.Options{DefaultNamespace: "ml"})
//	for _, u := range units { if u.Err != nil { ... }; apply(u.Objects) }
//	name := render.TrainingJobName(model) // content-addressed: <name>-train-<hash>
package render
