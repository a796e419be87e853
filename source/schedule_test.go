package source_test

import (
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
		{"@every 500ms", now.Add(500 * time.Millisecond), 500 * time.Millisecond},
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
