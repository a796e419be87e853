// Package benchgen writes synthetic models repositories for the benchmarks of
// render and e2e: a mix of serving, training and scheduled models, some with a
// kustomize overlay (a strategic-merge patch, an image override, labels and an
// extra ConfigMap), so a run exercises every rendering path.
//
//	err := benchgen.Repo(dir, 1000, 1) // 1000 models, each with an overlay
//	err := benchgen.Repo(dir, 1000, 0) // 1000 plain models
//	spec := benchgen.Model(7, 2)       // model 7, changed (version 2)
package benchgen
