// Command bench measures the reconciler against the local control plane and
// prints figures for docs/BENCHMARKS.md: a cold apply of N generated models next
// to kubectl apply --server-side of the same objects, the API requests and CPU
// of a steady state with no commit and no drift, drift revert latency over
// random trials and a storm of simultaneous changes, push -> applied through
// the webhook, and the daemon's memory.
//
// With -flux it runs Flux's source-controller and kustomize-controller
// (built in the nested module tools/flux, never in tether's) on the same
// repository, served over loopback HTTP to both: one Kustomization per model
// applying the objects tether renders, committed as plain manifests under
// flux/<model>/. kubectl and Flux each get a control plane of their own,
// stopped before tether's phases start, and a summary prints every figure
// side by side.
//
//	go run ./e2e/bench -models 1000 -steady 5m -trials 200 -storm 100
//	go run ./e2e/bench -models 1000 -flux -steady 5m -interval 1m
package main
