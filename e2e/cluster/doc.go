// Package cluster runs a real, local Kubernetes control plane for tests:
// etcd, kube-apiserver, kube-controller-manager and kube-scheduler built from
// source at pinned versions, plus kwok, which plays the kubelet for fake nodes
// so Deployments become Available and Jobs Complete without containers.
//
// Build compiles the binaries once into a cache outside the repository
// ($TETHER_CLUSTER_CACHE, else the user cache dir under tether/cluster), keyed
// by the tools modules under tools/, the link flags and the Go version. Start
// picks free loopback ports, generates a throwaway PKI, starts the processes
// with logs in its state directory and waits until the API answers and the
// fake nodes are Ready. Stop ends exactly the processes Start began, by PID.
// StopComponent, StartComponent and RestartComponent take one process away
// and bring it back with its ports and data, for fault tests (e2e/faults).
//
// It leaves out networking, container runtimes, kube-proxy, DNS and anything
// else a node would do beyond reporting status: pods never run a process.
//
// Usage, once per test package:
//
//	func TestMain(m *testing.M) { os.Exit(cluster.RunMain(m)) }
//	cs := kubernetes.NewForConfigOrDie(cluster.Shared().Config)
//	// ... exercise the API server through cs ...
//
// A cold build takes 15-25 minutes on two cores, longer than go test's
// default -timeout plus the minute's grace after which go test kills a test
// binary, so build first (go run ./e2e/cluster/cmd/localcluster build) or
// pass a larger -timeout. Later builds hit the cache in well under a second.
//
// The localcluster command (cmd/localcluster) starts the same cluster detached
// for use from a shell or Makefile.
package cluster
