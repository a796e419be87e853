// Command bench measures the reconciler against the local control plane and
// prints figures for docs/BENCHMARKS.md: a cold apply of N generated models next
// to kubectl apply --server-side of the same objects, the API requests and CPU
// of a steady state with no commit and no drift, drift revert latency over
// random trials and a storm of simultaneous changes, and the daemon's memory.
//
//	go run ./e2e/bench -models 1000 -steady 5m -trials 200 -storm 100
package main
