package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/tether-ml/tether/reconcile"
)

// writeStatus prints one line per unit, as flux get kustomizations does, or
// the whole status as JSON.
func writeStatus(w io.Writer, output string, st reconcile.Status, now time.Time) error {
	if output == "json" {
		return writeIndented(w, st)
	}
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSTATE\tREVISION\tAPPLIED\tLAST DRIFT\tMESSAGE")
	for _, u := range st.Units {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Kind, u.State, orDash(shortRevision(u.LastApplied)),
			orDash(appliedAge(u, now)), orDash(lastDrift(u.LastDrift, now)), message(u))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(table.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// writeUnitStatus prints one unit with its lineage and objects, or as JSON.
func writeUnitStatus(w io.Writer, output string, u reconcile.UnitStatus, now time.Time) error {
	if output == "json" {
		return writeIndented(w, u)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(label, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", label, value)
		}
	}
	row("Name", u.Name+" ("+u.Kind+")")
	state := string(u.State)
	if u.Health != "" && u.Health != u.State {
		state += " (health " + string(u.Health) + ")"
	}
	row("State", state)
	row("Revision", orDash(u.LastApplied))
	lineageRows(row, u.Lineage, now)
	row("Drift mode", u.DriftMode)
	row("Last drift", lastDrift(u.LastDrift, now))
	row("Last error", u.LastError)
	if b := u.SyncBlocked; b != nil {
		row("Sync blocked", syncBlocked(b, now))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeObjects(w, u, now)
}

// lineageRows prints what the last applied content traces back to.
func lineageRows(row func(label, value string), lin *reconcile.LineageStatus, now time.Time) {
	if lin == nil {
		return
	}
	if c := lin.Commit; c != nil && c.Author != "" {
		row("Commit", fmt.Sprintf("%s, %s (%s ago): %s", c.Author, c.Time.UTC().Format(time.RFC3339), age(c.Time, now), c.Subject))
	}
	if lin.AppliedAt != nil {
		row("Applied", fmt.Sprintf("%s (%s ago)", lin.AppliedAt.UTC().Format(time.RFC3339), age(*lin.AppliedAt, now)))
	}
	row("Image", lin.Image)
	row("Image digest", lin.ImageDigest)
	row("Model URI", lin.ModelURI)
	row("Dataset", lin.Dataset)
	if r := lin.TrainingRun; r != nil {
		row("Training run", fmt.Sprintf("%s %s: %s", r.Kind, r.Name, r.Outcome))
	}
}

// writeObjects prints each object with the revision of its content.
func writeObjects(w io.Writer, u reconcile.UnitStatus, now time.Time) error {
	if len(u.ObjectLineage) == 0 {
		return nil
	}
	fmt.Fprintln(w, "Objects:")
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "  OBJECT\tREVISION\tAUTHOR\tAPPLIED")
	for _, o := range u.ObjectLineage {
		author, applied := "-", "-"
		if o.Commit != nil && o.Commit.Author != "" {
			author = o.Commit.Author
		}
		if o.AppliedAt != nil {
			applied = age(*o.AppliedAt, now)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", o.Object, shortRevision(o.Revision), author, applied)
	}
	return tw.Flush()
}

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// message is the table's last column: why a unit is not plainly Ready.
func message(u reconcile.UnitStatus) string {
	switch {
	case u.SyncBlocked != nil:
		msg := "revision " + shortRevision(u.SyncBlocked.Revision) + " held by " + strings.Join(u.SyncBlocked.Windows, ", ")
		if u.SyncBlocked.Opens != nil {
			msg += " until " + u.SyncBlocked.Opens.UTC().Format(time.RFC3339)
		}
		return msg
	case u.LastError != "":
		return firstLine(u.LastError)
	case u.Suspended:
		return "suspended: nothing is applied or reverted"
	case u.Lineage != nil && u.Lineage.TrainingRun != nil && u.Lineage.TrainingRun.Outcome == "Failed":
		return "training run " + u.Lineage.TrainingRun.Name + " failed"
	}
	return ""
}

// syncBlocked describes a hold for the detail view.
func syncBlocked(b *reconcile.SyncBlockedStatus, now time.Time) string {
	s := fmt.Sprintf("revision %s held since %s ago by %s", shortRevision(b.Revision), age(b.Since, now), strings.Join(b.Windows, ", "))
	if b.Opens != nil {
		s += "; applied when it opens at " + b.Opens.UTC().Format(time.RFC3339)
	} else {
		s += "; no opening found soon"
	}
	if b.ManualSync {
		s += "; a sync by hand (" + reconcile.AnnotationSyncRequested + " on the record) goes through"
	}
	if b.Request != "" {
		s += "; " + b.Request
	}
	return s
}

// lastDrift is "2m ago reverted Deployment/ml/a".
func lastDrift(d *reconcile.DriftStatus, now time.Time) string {
	if d == nil {
		return ""
	}
	return fmt.Sprintf("%s ago %s %s", age(d.Time, now), d.Action, d.Object)
}

func appliedAge(u reconcile.UnitStatus, now time.Time) string {
	if u.Lineage == nil || u.Lineage.AppliedAt == nil {
		return ""
	}
	return age(*u.Lineage.AppliedAt, now)
}

// age is kubectl's short duration: 5m, 3h, 2d.
func age(t, now time.Time) string { return duration.HumanDuration(now.Sub(t)) }

func shortRevision(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
