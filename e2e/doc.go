// Package e2e holds black-box tests of the built tether binary against the local
// control plane (package cluster), real Git servers on loopback and, for
// notifications, a Slack receiver.
//
// TestMain builds ./cmd/tether once and starts one cluster for the package:
//
//	go test ./e2e/ -run TestSlice -v
package e2e
