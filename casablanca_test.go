package prodays_test

import (
	"testing"
	"time"

	"prodays"
)

// TestCasablancaRamadan pins the two offsets that a fixed UTC+1 gets wrong:
// Morocco moves to UTC+0 during Ramadan.
func TestCasablancaRamadan(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want int // offset in seconds
	}{
		{time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), 3600},
		{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), 0}, // Ramadan 2026
	} {
		if _, got := tc.at.In(prodays.Casablanca).Zone(); got != tc.want {
			t.Errorf("offset at %s: got %d s, want %d s", tc.at.Format(time.DateOnly), got, tc.want)
		}
	}
	if got := prodays.Casablanca.String(); got != "Africa/Casablanca" {
		t.Errorf("got %q, want Africa/Casablanca", got)
	}
}

func TestNearestDay(t *testing.T) {
	days := []string{"2026-03-23", "2026-03-24", "2026-03-26"}
	for _, c := range []struct{ today, want string }{
		{"2026-03-24", "2026-03-24"}, // in the edition
		{"2026-01-05", "2026-03-23"}, // before: the first day
		{"2026-12-03", "2026-03-26"}, // after: the last day
		{"2026-03-25", "2026-03-26"}, // a gap: the next day
	} {
		if got := prodays.NearestDay(days, c.today); got != c.want {
			t.Errorf("NearestDay(%s) = %s, want %s", c.today, got, c.want)
		}
	}
	if got := prodays.NearestDay(nil, "2026-12-03"); got != "2026-12-03" {
		t.Errorf("no days: %s, want today", got)
	}
}
