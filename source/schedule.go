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

// ParseSchedule reads a poll schedule: a Go duration ("30s", "1m"), robfig/cron's
// "@every <duration>", another descriptor ("@hourly") or a standard 5-field
// cron spec ("*/5 * * * *", evaluated in the daemon's time zone).
func ParseSchedule(spec string) (Schedule, error) {
	s := strings.TrimSpace(spec)
	every, isEvery := strings.CutPrefix(s, "@every")
	if d, err := time.ParseDuration(strings.TrimSpace(every)); err == nil {
		if d <= 0 {
			return nil, fmt.Errorf("poll interval %q: must be positive", spec)
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
