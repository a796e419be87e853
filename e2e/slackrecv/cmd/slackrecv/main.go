// Command slackrecv runs a stand-in Slack incoming webhook on loopback and
// prints every message it receives as Slack would show it. The demo uses it
// to show what tether posts; it writes its webhook URL to --url-file, ready
// for tether's --slack-webhook-url-file.
//
//	go run ./e2e/slackrecv/cmd/slackrecv --url-file /tmp/slack-url [--json]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tether-ml/tether/e2e/slackrecv"
)

func main() {
	urlFile := flag.String("url-file", "", "write the webhook URL to this file (required)")
	raw := flag.Bool("json", false, "also print each payload as JSON")
	flag.Parse()
	if *urlFile == "" {
		fmt.Fprintln(os.Stderr, "slackrecv: --url-file is required")
		os.Exit(2)
	}
	r := slackrecv.Start()
	defer r.Close()
	n := 0
	r.OnMessage(func(m slackrecv.Message) {
		n++
		fmt.Printf("┌── Slack message %d ──\n%s", n, indent(m.Render()))
		if *raw {
			fmt.Printf("│ %s\n", m.Raw)
		}
		fmt.Println("└──")
	})
	if err := os.WriteFile(*urlFile, []byte(r.URL+"\n"), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "slackrecv:", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	for _, err := range r.Invalid() {
		fmt.Fprintln(os.Stderr, "slackrecv: rejected payload:", err)
	}
}

func indent(s string) string {
	return "│ " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n│ ") + "\n"
}
