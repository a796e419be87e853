package render

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	// Embedded zone data: CRON_TZ=<zone> and timeZone must work in a minimal container image.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// windowSchedule is a sync window's cron expression in its time zone. It is
// evaluated on wall-clock times and daylight saving time is handled as
// cron(8) handles it: a start that falls into the hour the clocks skip
// happens when they jump, and a start in the hour they repeat happens once,
// the first time. robfig/cron alone skips the first and fires the second
// twice: a deny window at 02:30 Europe/Berlin would not close the repository
// on the last Sunday of March at all.
type windowSchedule struct {
	wall cron.Schedule // the expression, on wall-clock times written as UTC
	loc  *time.Location
}

// next returns the first start strictly after t; zero when the expression
// never fires (30 February).
func (s windowSchedule) next(t time.Time) time.Time {
	if s.loc == time.UTC {
		return s.wall.Next(t.UTC())
	}
	w := wallClock(t, s.loc)
	// In a repeated hour the wall clock runs behind the first pass: starts
	// up to an hour of wall-clock time after w may already have happened.
	for range 24 * 60 {
		n := s.wall.Next(w)
		if n.IsZero() {
			return n
		}
		if x := instant(n, s.loc); x.After(t) {
			return x
		}
		w = n
	}
	return time.Time{}
}

// wallClock is t's wall-clock reading in loc, written as a UTC time.
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// instant is the first instant whose wall clock in loc reads w; for a
// reading the clocks skip, the instant they skip it.
func instant(w time.Time, loc *time.Location) time.Time {
	// The offsets in force a day and a half either side cover every
	// transition near w; no zone changes its offset twice in three days.
	var first time.Time
	for _, probe := range [...]time.Time{w.Add(-36 * time.Hour), w.Add(36 * time.Hour)} {
		_, offset := probe.In(loc).Zone()
		x := w.Add(-time.Duration(offset) * time.Second)
		if wallClock(x, loc).Equal(w) && (first.IsZero() || x.Before(first)) {
			first = x
		}
	}
	if !first.IsZero() {
		return first
	}
	_, before := w.Add(-36 * time.Hour).In(loc).Zone()
	jumped, _ := w.Add(-time.Duration(before) * time.Second).In(loc).ZoneBounds()
	return jumped.UTC()
}

// schedules caches parsed window schedules: windows are evaluated at every
// pass and drift check, and a tether.yaml has few distinct ones.
var schedules = struct {
	sync.Mutex
	m map[[2]string]windowSchedule
}{m: map[[2]string]windowSchedule{}}

// windowScheduleOf parses a window's schedule in its time zone, once.
func windowScheduleOf(expr, zone string) (windowSchedule, error) {
	k := [2]string{expr, zone}
	schedules.Lock()
	defer schedules.Unlock()
	if s, ok := schedules.m[k]; ok {
		return s, nil
	}
	s, err := parseWindowSchedule(expr, zone)
	if err != nil {
		return s, err
	}
	if len(schedules.m) >= 256 {
		clear(schedules.m)
	}
	schedules.m[k] = s
	return s, nil
}

// parseWindowSchedule parses a 5-field cron expression, optionally prefixed
// with CRON_TZ=<zone> (or TZ=<zone>), in the IANA time zone zone (which must
// then be empty); without either it is evaluated in UTC.
func parseWindowSchedule(expr, zone string) (windowSchedule, error) {
	prefixed, rest := splitCronTZ(expr)
	if prefixed != "" && zone != "" {
		return windowSchedule{}, errors.New("names a CRON_TZ= zone and a timeZone; use one of them")
	}
	if prefixed != "" {
		zone = prefixed
	}
	loc := time.UTC
	if zone != "" {
		var err error
		if loc, err = time.LoadLocation(zone); err != nil || rest == "" {
			return windowSchedule{}, fmt.Errorf("unknown time zone %q or no expression after it", zone)
		}
	}
	sched, err := parseCron(rest)
	if err != nil {
		return windowSchedule{}, err
	}
	if spec, ok := sched.(*cron.SpecSchedule); ok {
		spec.Location = time.UTC
	}
	return windowSchedule{wall: sched, loc: loc}, nil
}

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

// neverFires reports whether sched names no date that exists ("0 0 30 2 *",
// February 30): robfig/cron then finds no time within five years. The
// CronJob controller would accept it and never run the training (issue 11).
func neverFires(sched cron.Schedule) bool { return sched.Next(time.Now()).IsZero() }

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
