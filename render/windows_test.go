package render_test

import (
	"testing"
	"time"

	"github.com/tether-ml/tether/render"
)

// at parses an RFC 3339 time: every window test runs on a fixed clock.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestSyncWindows(t *testing.T) {
	// Fridays 18:00 UTC for 62h: closed over the weekend until Monday 08:00.
	weekend := render.SyncWindow{Kind: render.WindowDeny, Schedule: "0 18 * * 5", Duration: 62 * time.Hour, RevertDrift: true}
	frozen := weekend
	frozen.RevertDrift = false
	// Weekdays 09:00-17:00 Berlin time, once with a prefix, once with timeZone.
	office := render.SyncWindow{Kind: render.WindowAllow, Schedule: "CRON_TZ=Europe/Berlin 0 9 * * 1-5", Duration: 8 * time.Hour, RevertDrift: true}
	officeTZ := office
	officeTZ.Schedule, officeTZ.TimeZone = "0 9 * * 1-5", "Europe/Berlin"
	fraudOnly := weekend
	fraudOnly.Models = []string{"fraud-*"}

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
		{"inside an allow window with timeZone", []render.SyncWindow{officeTZ}, "m", "2026-11-27T08:00:00Z", true, true},
		{"outside an allow window with timeZone", []render.SyncWindow{officeTZ}, "m", "2026-11-27T07:59:00Z", false, true},
		{"deny wins over allow", []render.SyncWindow{office, frozen}, "m", "2026-11-30T07:30:00Z", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := render.Settings{SyncWindows: tt.windows}
			if got := s.SyncAllowed(tt.model, at(t, tt.t)); got != tt.sync {
				t.Errorf("SyncAllowed = %v, want %v", got, tt.sync)
			}
			if got := s.RevertAllowed(tt.model, at(t, tt.t)); got != tt.revert {
				t.Errorf("RevertAllowed = %v, want %v", got, tt.revert)
			}
		})
	}
}

// TestNextSync: when a blocked model may sync next, for overlapping allow and
// deny windows, windows longer than their schedule's period and across both
// daylight saving time changes.
func TestNextSync(t *testing.T) {
	deny := func(schedule, zone string, d time.Duration) render.SyncWindow {
		return render.SyncWindow{Kind: render.WindowDeny, Schedule: schedule, TimeZone: zone, Duration: d, RevertDrift: true}
	}
	allow := func(schedule, zone string, d time.Duration) render.SyncWindow {
		w := deny(schedule, zone, d)
		w.Kind = render.WindowAllow
		return w
	}
	office := allow("0 9 * * 1-5", "Europe/Berlin", 8*time.Hour) // 08:00-16:00 UTC in winter
	tests := []struct {
		name    string
		windows []render.SyncWindow
		t       string
		want    string // the opening; "" for none found
	}{
		{"weekend freeze", []render.SyncWindow{deny("0 18 * * 5", "", 62*time.Hour)}, "2026-11-28T12:00:00Z", "2026-11-30T08:00:00Z"},
		{"outside office hours", []render.SyncWindow{office}, "2026-11-27T17:00:00Z", "2026-11-30T08:00:00Z"},
		{"deny inside an allow window ends first", []render.SyncWindow{office, deny("0 12 * * *", "Europe/Berlin", 2*time.Hour)},
			"2026-11-27T11:30:00Z", "2026-11-27T13:00:00Z"},
		{"deny outlasting the allow window waits for the next allow", []render.SyncWindow{office, deny("0 15 * * *", "Europe/Berlin", 4*time.Hour)},
			"2026-11-27T14:30:00Z", "2026-11-30T08:00:00Z"},
		{"allow and deny starting together", []render.SyncWindow{office, deny("0 9 * * 1-5", "Europe/Berlin", time.Hour)},
			"2026-11-27T07:00:00Z", "2026-11-27T09:00:00Z"},
		{"duration longer than the period: always closed", []render.SyncWindow{deny("0 * * * *", "", 90*time.Minute)}, "2026-11-27T12:10:00Z", ""},
		{"every minute for two minutes: always closed", []render.SyncWindow{deny("* * * * *", "", 2*time.Minute)}, "2026-11-27T12:10:00Z", ""},
		{"duration longer than the period, with gaps", []render.SyncWindow{deny("0 */2 * * *", "", 90*time.Minute)}, "2026-11-27T00:10:00Z", "2026-11-27T01:30:00Z"},
		{"overlapping starts extend the window", []render.SyncWindow{deny("0,30 9 * * *", "", 45*time.Minute)}, "2026-11-27T09:10:00Z", "2026-11-27T10:15:00Z"},
		// Europe/Berlin skips 02:00-03:00 on 29 March 2026: a 02:30 window starts at the jump (01:00 UTC).
		{"spring forward: a start in the skipped hour happens at the jump", []render.SyncWindow{deny("30 2 * * *", "Europe/Berlin", time.Hour)},
			"2026-03-29T01:10:00Z", "2026-03-29T02:00:00Z"},
		{"spring forward: the day before", []render.SyncWindow{deny("30 2 * * *", "Europe/Berlin", time.Hour)}, "2026-03-28T01:40:00Z", "2026-03-28T02:30:00Z"},
		// Europe/Berlin repeats 02:00-03:00 on 25 October 2026: a 02:30 window starts once, at 02:30 CEST (00:30 UTC).
		{"fall back: the first 02:30", []render.SyncWindow{deny("30 2 * * *", "Europe/Berlin", time.Hour)}, "2026-10-25T00:45:00Z", "2026-10-25T01:30:00Z"},
		{"fall back: a window lasts its elapsed duration", []render.SyncWindow{deny("0 0 * * *", "Europe/Berlin", 8*time.Hour)},
			"2026-10-25T05:30:00Z", "2026-10-25T06:00:00Z"},
		{"allow window after spring forward", []render.SyncWindow{allow("0 9 * * *", "Europe/Berlin", time.Hour)}, "2026-03-29T06:00:00Z", "2026-03-29T07:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := render.Settings{SyncWindows: tt.windows}.WindowsFor("m")
			now := at(t, tt.t)
			if w.Verdict(now).Sync {
				t.Fatalf("syncs allowed at %s; the test wants a blocked model", tt.t)
			}
			got, found := w.NextSync(now)
			if tt.want == "" {
				if found || !got.After(now) {
					t.Errorf("NextSync = %s, %v; want not found and a later time to look again", got, found)
				}
				return
			}
			if want := at(t, tt.want); !found || !got.Equal(want) {
				t.Errorf("NextSync = %s, %v; want %s", got.UTC(), found, want)
			}
			if !w.Verdict(got).Sync || w.Verdict(got.Add(-time.Second)).Sync {
				t.Errorf("verdicts around %s do not change there", got)
			}
		})
	}
}

// TestSyncWindowsDST: robfig/cron alone skips a start in the hour the clocks
// skip and repeats one in the hour they repeat; windows do neither.
func TestSyncWindowsDST(t *testing.T) {
	w := render.SyncWindow{Kind: render.WindowDeny, Schedule: "30 2 * * *", TimeZone: "Europe/Berlin", Duration: time.Hour}
	prefixed := w
	prefixed.Schedule, prefixed.TimeZone = "CRON_TZ=Europe/Berlin 30 2 * * *", ""
	tests := []struct {
		t      string
		active bool
	}{
		{"2026-03-29T00:59:59Z", false}, // 01:59:59 CET
		{"2026-03-29T01:00:00Z", true},  // 03:00 CEST: the skipped 02:30 starts now
		{"2026-03-29T01:59:00Z", true},
		{"2026-03-29T02:00:00Z", false},
		{"2026-10-25T00:30:00Z", true},  // 02:30 CEST
		{"2026-10-25T01:29:00Z", true},  // 02:29 CET, the hour again
		{"2026-10-25T01:30:00Z", false}, // 02:30 CET: no second start
		{"2026-10-25T02:00:00Z", false},
		{"2026-10-26T01:30:00Z", true}, // 02:30 CET the day after
	}
	for _, tt := range tests {
		for _, win := range []render.SyncWindow{w, prefixed} {
			if got := win.Active(at(t, tt.t)); got != tt.active {
				t.Errorf("%s at %s: Active = %v, want %v", win, tt.t, got, tt.active)
			}
		}
	}
}

func TestManualSync(t *testing.T) {
	deny := render.SyncWindow{Kind: render.WindowDeny, Schedule: "* * * * *", Duration: 2 * time.Minute, ManualSync: true}
	strict := deny
	strict.ManualSync = false
	allow := render.SyncWindow{Kind: render.WindowAllow, Schedule: "0 9 * * *", Duration: time.Hour, ManualSync: true}
	tests := []struct {
		name    string
		windows []render.SyncWindow
		want    bool
	}{
		{"no window", nil, false},
		{"a deny window with manualSync", []render.SyncWindow{deny}, true},
		{"one of two deny windows without it", []render.SyncWindow{deny, strict}, false},
		{"an inactive allow window with it", []render.SyncWindow{allow}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := render.Settings{SyncWindows: tt.windows}.WindowsFor("m").Verdict(at(t, "2026-11-27T12:00:00Z"))
			if v.ManualSync != tt.want {
				t.Errorf("ManualSync = %v, want %v (verdict %+v)", v.ManualSync, tt.want, v)
			}
		})
	}
}
