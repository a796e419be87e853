package render

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	// Embedded zone data: CRON_TZ=<zone> must work in a minimal container image.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// Sync windows follow Argo CD's semantics: an active deny window blocks a
// model's syncs; when allow windows match a model, it syncs only while one of
// them is active. Drift is still reverted while syncs are blocked, unless a
// blocking window says revertDrift: false.

// Active reports whether w is open at t: its schedule fired at or before t,
// less than Duration ago.
func (w SyncWindow) Active(t time.Time) bool {
	sched, err := parseWindowSchedule(w.Schedule)
	if err != nil || w.Duration <= 0 {
		return false
	}
	// Next returns the first start strictly after t-Duration; the window is
	// open when that start is not after t.
	start := sched.Next(t.Add(-w.Duration))
	return !start.IsZero() && !start.After(t)
}

// Matches reports whether w applies to model; a window without globs applies
// to every model.
func (w SyncWindow) Matches(model string) bool {
	if len(w.Models) == 0 {
		return true
	}
	for _, glob := range w.Models {
		if ok, _ := path.Match(glob, model); ok {
			return true
		}
	}
	return false
}

// SyncAllowed reports whether a new revision of model may be applied at t.
func (s Settings) SyncAllowed(model string, t time.Time) bool {
	return len(s.blocking(model, t)) == 0
}

// RevertAllowed reports whether drift of model is reverted at t: always while
// syncs are allowed, and otherwise unless a blocking window turns it off.
func (s Settings) RevertAllowed(model string, t time.Time) bool {
	for _, w := range s.blocking(model, t) {
		if !w.RevertDrift {
			return false
		}
	}
	return true
}

// blocking returns the windows that keep model from syncing at t: active deny
// windows, and all matching allow windows when none of them is active.
func (s Settings) blocking(model string, t time.Time) []SyncWindow {
	var deny, allow []SyncWindow
	open := false
	for _, w := range s.SyncWindows {
		if !w.Matches(model) {
			continue
		}
		switch w.Kind {
		case WindowDeny:
			if w.Active(t) {
				deny = append(deny, w)
			}
		case WindowAllow:
			allow = append(allow, w)
			open = open || w.Active(t)
		}
	}
	if len(allow) > 0 && !open {
		deny = append(deny, allow...)
	}
	return deny
}

// parseWindowSchedule parses a 5-field cron expression, optionally prefixed
// with CRON_TZ=<zone> (or TZ=<zone>); without a zone it is evaluated in UTC.
func parseWindowSchedule(expr string) (cron.Schedule, error) {
	zone, rest := splitCronTZ(expr)
	loc := time.UTC
	if zone != "" {
		var err error
		if loc, err = time.LoadLocation(zone); err != nil || rest == "" {
			return nil, fmt.Errorf("unknown time zone %q or no expression after it", zone)
		}
	}
	sched, err := parseCron(rest)
	if spec, ok := sched.(*cron.SpecSchedule); ok {
		spec.Location = loc
	}
	return sched, err
}

// neverFires reports whether sched names no date that exists ("0 0 30 2 *",
// February 30): robfig/cron then finds no time within five years. The
// CronJob controller would accept it and never run the training (issue 11).
func neverFires(sched cron.Schedule) bool { return sched.Next(time.Now()).IsZero() }

// parseCron parses a cron expression with robfig/cron, keeping zone prefixes
// away from it: its parser panics on "CRON_TZ=x" without a following space
// (found by FuzzDecodeSettings). The recover guards against its other bugs.
func parseCron(expr string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("cannot parse %q", expr)
		}
	}()
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, errors.New("a time zone prefix is not allowed here")
	}
	return cron.ParseStandard(expr)
}

// splitCronTZ splits "CRON_TZ=Europe/Berlin 0 9 * * 1-5" into zone and expression.
func splitCronTZ(expr string) (zone, rest string) {
	for _, prefix := range []string{"CRON_TZ=", "TZ="} {
		if after, ok := strings.CutPrefix(expr, prefix); ok {
			zone, rest, _ = strings.Cut(after, " ")
			return zone, strings.TrimSpace(rest)
		}
	}
	return "", expr
}
