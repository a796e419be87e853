// Package test holds the tests of the tether Helm chart (charts/tether), in
// a module of its own so that helm's SDK never enters the daemon's module.
//
// Render tests compare `helm template`-style renders of value sets with
// golden files in testdata/ (-update rewrites them) and check the values
// schema. Cluster tests install the chart into the local control plane
// (e2e/cluster) and run the tether binary with the Deployment's own
// arguments and a token of the chart's ServiceAccount: it must apply, prune
// and revert drift with no Forbidden, and removing any permission from the
// chart's RBAC must make it fail with a log line naming that permission.
// The image test runs the image `make image` built the same way, under
// podman, as UID 65532 on a read-only root filesystem.
//
//	make test-chart    # or: cd charts/tether/test && go test -p 1 .
package test
