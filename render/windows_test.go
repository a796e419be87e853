package render_test

import (
	"testing"
	"time"

	"github.com/tether-ml/tether/render"
)

func TestSyncWindows(t *testing.T) {
	// Fridays 18:00 UTC for 62h: closed over the weekend until Monday 08:00.
	weekend := render.SyncWindow{Kind: render.WindowDeny, Schedule: "0 18 * * 5", Duration: 62 * time.Hour, RevertDrift: true}
	frozen := weekend
	frozen.RevertDrift = false
	// Weekdays 09:00-17:00 Berlin time.
	office := render.SyncWindow{Kind: render.WindowAllow, Schedule: "CRON_TZ=Europe/Berlin 0 9 * * 1-5", Duration: 8 * time.Hour, RevertDrift: true}
	fraudOnly := weekend
	fraudOnly.Models = []string{"fraud-*"}

	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	tests := []struct {
		name    string
		windows []render.SyncWindow
		model   string
		t       string
		sync    bool
		revert  bool
	}{
		{"no windows", nil, "m", "2026-11-27T20:00:00Z", true, true},
		{"before a deny window", []render.SyncWindow{weekend}, "m", "2026-11-27T17:59:59Z", true, true},
		{"at the start of a deny window", []render.SyncWindow{weekend}, "m", "2026-11-27T18:00:00Z", false, true},
		{"inside a deny window", []render.SyncWindow{weekend}, "m", "2026-11-29T12:00:00Z", false, true},
		{"at the end of a deny window", []render.SyncWindow{weekend}, "m", "2026-11-30T08:00:00Z", true, true},
		{"deny window without drift reverts", []render.SyncWindow{frozen}, "m", "2026-11-28T12:00:00Z", false, false},
		{"deny window for other models", []render.SyncWindow{fraudOnly}, "churn", "2026-11-28T12:00:00Z", true, true},
		{"deny window matching by glob", []render.SyncWindow{fraudOnly}, "fraud-detector", "2026-11-28T12:00:00Z", false, true},
		{"inside an allow window", []render.SyncWindow{office}, "m", "2026-11-27T10:00:00Z", true, true},
		{"outside an allow window", []render.SyncWindow{office}, "m", "2026-11-27T17:00:00Z", false, true},
		{"deny wins over allow", []render.SyncWindow{office, frozen}, "m", "2026-11-30T07:30:00Z", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := render.Settings{SyncWindows: tt.windows}
			if got := s.SyncAllowed(tt.model, at(tt.t)); got != tt.sync {
				t.Errorf("SyncAllowed = %v, want %v", got, tt.sync)
			}
			if got := s.RevertAllowed(tt.model, at(tt.t)); got != tt.revert {
				t.Errorf("RevertAllowed = %v, want %v", got, tt.revert)
			}
		})
	}
}
