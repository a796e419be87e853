package source_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tether-ml/tether/source"
)

func TestParseSchedule(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 2, 30, 0, time.Local)
	tests := []struct {
		spec   string
		next   time.Time // zero: parse error
		period time.Duration
	}{
		{"30s", now.Add(30 * time.Second), 30 * time.Second},
		{"1m", now.Add(time.Minute), time.Minute},
		{"@every 1m30s", now.Add(90 * time.Second), 90 * time.Second},
		{"@every 1s", now.Add(time.Second), time.Second},
		{"*/5 * * * *", time.Date(2026, 11, 27, 10, 5, 0, 0, time.Local), 5 * time.Minute},
		{"@hourly", time.Date(2026, 11, 27, 11, 0, 0, 0, time.Local), time.Hour},
		{"0 3 * * *", time.Date(2026, 11, 28, 3, 0, 0, 0, time.Local), 24 * time.Hour},
		{"-1s", time.Time{}, 0},
		{"@every soon", time.Time{}, 0},
		{"* * *", time.Time{}, 0},
		{"", time.Time{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := source.ParseSchedule(tt.spec)
			if tt.next.IsZero() {
				if err == nil {
					t.Fatalf("ParseSchedule(%q) accepted", tt.spec)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(now); !got.Equal(tt.next) {
				t.Errorf("Next = %s, want %s", got, tt.next)
			}
			if got := source.Period(s, now); got != tt.period {
				t.Errorf("Period = %s, want %s", got, tt.period)
			}
		})
	}
}

// TestParseScheduleRefusesUnusable: a schedule that never fires, or polls
// more often than once a second, is refused (issue 11: the loop spun on
// both), so cmd exits 2 at start.
func TestParseScheduleRefusesUnusable(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"0 0 30 2 *", `poll interval "0 0 30 2 *": never fires (no such date within five years)`},
		{"0 12 31 4,6,9,11 *", `never fires`},
		{"CRON_TZ=Europe/Berlin 0 0 30 2 *", `never fires`},
		{"500ms", `poll interval "500ms": 500ms is under 1s; poll at most once a second`},
		{"@every 100ms", `poll interval "@every 100ms": 100ms is under 1s`},
		{"@every 999ms", `is under 1s`},
		{"0.5s", `is under 1s`},
		{"1ns", `is under 1s`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := source.ParseSchedule(tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseSchedule(%q) = %v, want an error containing %q", tt.spec, err, tt.want)
			}
		})
	}
}
