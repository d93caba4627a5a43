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
