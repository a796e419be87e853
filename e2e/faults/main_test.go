//go:build faults

package faults

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/cluster"
	"github.com/tether-ml/tether/e2e/tetherproc"
)

// The suite's knobs: make faults runs the defaults, which are the issue's
// figures; shorter values make a quick run while a case is developed.
var (
	gitOutage   = flag.Duration("git-outage", 10*time.Minute, "how long the Git server is down")
	slackOutage = flag.Duration("slack-outage", 5*time.Minute, "how long Slack answers 429 and 500")
	etcdOutage  = flag.Duration("etcd-outage", 30*time.Second, "how long etcd is stopped")
	applyModels = flag.Int("models", 300, "models applied when kube-apiserver is restarted")
	floodSize   = flag.Int("flood", 10000, "unsigned webhook requests in the flood")
	tableFile   = flag.String("table", "", "also write the results table to this file")
)

// tetherBin is the binary under test, built once by TestMain.
var tetherBin string

func TestMain(m *testing.M) {
	flag.Parse()
	bin, cleanup, err := tetherproc.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tetherBin = bin
	began := time.Now()
	code := cluster.RunMain(m)
	cleanup()
	if err := printTable(os.Stdout, *tableFile, time.Since(began)); err != nil {
		fmt.Fprintln(os.Stderr, "table:", err)
		code = 1
	}
	os.Exit(code)
}
