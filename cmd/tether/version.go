package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time by make build:
//
//	-ldflags "-X main.version=... -X main.commit=... -X main.date=..."
//
// A plain `go build` leaves commit and date empty; buildInfo then takes them
// from the VCS stamp the go command embeds.
var (
	version = "dev"
	commit  string
	date    string
)

// buildInfo is what `tether version` prints.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// currentBuild describes this binary.
func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, BuildDate: date, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	var settings []debug.BuildSetting
	if bi, ok := debug.ReadBuildInfo(); ok {
		settings = bi.Settings
	}
	return withVCS(b, settings)
}

// withVCS fills what the ldflags left empty from the go command's VCS stamp:
// the commit from vcs.revision (with "-dirty" for a modified tree), the date
// from vcs.time (the commit's time). What is still unknown says so.
func withVCS(b buildInfo, settings []debug.BuildSetting) buildInfo {
	vcs := map[string]string{}
	for _, s := range settings {
		vcs[s.Key] = s.Value
	}
	if b.Commit == "" && vcs["vcs.revision"] != "" {
		b.Commit = vcs["vcs.revision"]
		if vcs["vcs.modified"] == "true" {
			b.Commit += "-dirty"
		}
	}
	if b.BuildDate == "" {
		b.BuildDate = vcs["vcs.time"]
	}
	for _, s := range []*string{&b.Commit, &b.BuildDate} {
		if *s == "" {
			*s = "unknown"
		}
	}
	return b
}

func newVersionCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version",
		Long:  "Print tether's version, the commit it was built from, the build date and the Go version it was built with.",
		Example: `  tether version
  tether version -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeVersion(cmd.OutOrStdout(), output, currentBuild())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	registerCompletion(cmd, "output", completeWords("text", "json"))
	return cmd
}

func writeVersion(w io.Writer, output string, b buildInfo) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	case "text":
		_, err := fmt.Fprintf(w, "tether %s\ncommit:     %s\nbuild date: %s\ngo:         %s %s\n",
			b.Version, b.Commit, b.BuildDate, b.GoVersion, b.Platform)
		return err
	}
	return usagef("version: --output %q: expected text or json", output)
}
