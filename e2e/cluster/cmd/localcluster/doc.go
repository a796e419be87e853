// Command localcluster builds and runs the e2e control plane of package
// cluster from a shell, detached from the command that started it.
//
//	localcluster build              # build (cached) and print the bin dir
//	localcluster up --dir DIR       # start; print DIR/kubeconfig
//	localcluster env --dir DIR      # print KUBECONFIG and PATH exports
//	localcluster down --dir DIR     # stop exactly the processes in DIR/pids
//
// It leaves out everything but those verbs: the package does the work.
package main
