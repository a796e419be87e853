package source

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule says when to poll next; robfig/cron's Schedule satisfies it.
type Schedule interface {
	Next(time.Time) time.Time
}

// Every polls at a fixed period.
type Every time.Duration

// Next is t plus the period.
func (e Every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// MinInterval is the shortest poll period ParseSchedule accepts.
const MinInterval = time.Second

// ParseSchedule reads a poll schedule: a Go duration ("30s", "1m"), robfig/cron's
// "@every <duration>", another descriptor ("@hourly") or a standard 5-field
// cron spec ("*/5 * * * *", evaluated in the daemon's time zone). A period
// under MinInterval, and a cron spec that never fires ("0 0 30 2 *"), are
// refused: the poll loop would spin on them (issue 11).
func ParseSchedule(spec string) (Schedule, error) {
	s := strings.TrimSpace(spec)
	every, isEvery := strings.CutPrefix(s, "@every")
	if d, err := time.ParseDuration(strings.TrimSpace(every)); err == nil {
		if d < MinInterval {
			return nil, fmt.Errorf("poll interval %q: %s is under %s; poll at most once a second", spec, d, MinInterval)
		}
		return Every(d), nil
	}
	if isEvery {
		return nil, fmt.Errorf("poll interval %q: expected @every <duration>, e.g. @every 30s", spec)
	}
	sched, err := cron.ParseStandard(s)
	if err != nil {
		return nil, fmt.Errorf("poll interval %q: expected a duration (30s), @every <duration> or a 5-field cron spec: %v", spec, err)
	}
	// robfig/cron looks five years ahead and returns the zero time when
	// nothing matches, e.g. February 30.
	if sched.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("poll interval %q: never fires (no such date within five years)", spec)
	}
	return sched, nil
}

// Period is the gap between the two polls that follow now: exact for Every,
// the current gap for a cron spec. It suits a loop that takes one fixed
// interval (and caps its retry backoff with it).
func Period(s Schedule, now time.Time) time.Duration {
	if e, ok := s.(Every); ok {
		return time.Duration(e)
	}
	first := s.Next(now)
	return s.Next(first).Sub(first)
}
