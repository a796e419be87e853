// Command tether is a GitOps reconciler for machine-learning models.
//
// It parses flags, builds the logger and wires source → render → reconcile; it
// holds no reconciliation logic of its own.
//
//	tether run --repo https://git.example.com/ml/models.git --kubeconfig ~/.kube/config
//	tether render ./models-repo --model fraud-detector
//	tether validate ./models-repo
package main
