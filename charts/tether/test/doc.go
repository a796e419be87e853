// Package test holds the tests of the tether Helm chart (charts/tether), in
// a module of its own so that helm's SDK never enters the daemon's module.
//
// Render tests compare `helm template`-style renders of value sets with
// golden files in testdata/render (-update rewrites them), check that Helm 3
// renders the same objects, check the values schema, and keep config.* one
// to one with the flags of `tether run` and the README's install example
// equal to what the cluster tests install.
//
// Cluster tests install the chart into the local control plane (e2e/cluster)
// and run the tether binary with the Deployment's own arguments and a token
// of the chart's ServiceAccount: it must apply, prune and revert drift with
// no Forbidden, and taking any permission away from the chart's RBAC must
// make it fail with a log line naming that permission. rbac.scope namespaces
// gets the same scenario. The image test runs the image `make image` built
// ($TETHER_IMAGE) the same way, under podman, as UID 65532 on a read-only
// root filesystem.
//
//	make test-chart    # or: cd charts/tether/test && TETHER_IMAGE=... go test .
package test
