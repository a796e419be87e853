// Command tether is a GitOps reconciler for machine-learning models.
//
// It parses flags (cobra and pflag: one file and one constructor per command,
// listed in main.go's commands), builds the logger and wires source → render
// → reconcile; it holds no reconciliation logic of its own. Every flag can also
// be set as TETHER_<FLAG>; bad invocations exit 2 with one line on stderr.
//
//	tether run --repo https://git.example.com/ml/models.git --kubeconfig ~/.kube/config
//	tether render ./models-repo --model fraud-detector
//	tether validate ./models-repo
package main
