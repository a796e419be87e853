// Package tetherproc builds the tether binary and runs `tether run` as a
// process for black-box tests (e2e, e2e/faults): it keeps every JSON log
// line with the time it arrived, finds lines by message and keys, serves
// the daemon's endpoints, and stops it with SIGTERM or SIGKILL.
//
// It leaves out the cluster, Git and Slack: the caller passes their
// addresses as flags.
//
//	bin, cleanup, err := tetherproc.Build()
//	p, err := tetherproc.Start(bin, []string{"run", "--log-format", "json", "--listen", "127.0.0.1:0", ...}, time.Minute)
//	lines := p.Find(0, "revision reconciled", map[string]string{"failed": "0"})
package tetherproc
