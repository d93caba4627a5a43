package protocol_test

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"prodays"
	"prodays/sync/protocol"
)

// TestCasablancaRamadanOffset: Morocco is on UTC+0 until 2026-03-22 02:00
// UTC (Ramadan), UTC+1 after. 2026-03-21T23:30Z is still the 21st in
// Casablanca (UTC+0), while a fixed UTC+1 offset would wrongly say the 22nd.
func TestCasablancaRamadanOffset(t *testing.T) {
	loc := prodays.Casablanca
	at := time.Date(2026, 3, 21, 23, 30, 0, 0, time.UTC)
	if got := protocol.LocalDay(at, loc); got != "2026-03-21" {
		t.Errorf("tz database: %s is on %s, want 2026-03-21 (UTC+0 during Ramadan)", at, got)
	}
	fixed := time.FixedZone("+01", 3600)
	if got := protocol.LocalDay(at, fixed); got != "2026-03-22" {
		t.Errorf("fixed +01: got %s, want the mistaken 2026-03-22", got)
	}
	// After the switch the offset is +1: 23:30Z on the 22nd is the 23rd.
	if got := protocol.LocalDay(time.Date(2026, 3, 22, 23, 30, 0, 0, time.UTC), loc); got != "2026-03-23" {
		t.Errorf("after the switch: got %s, want 2026-03-23", got)
	}
	// The window: an activity on the 20th accepts the 21st (local) but not the 22nd.
	if !protocol.InWindow(at, "2026-03-20", loc) {
		t.Error("23:30Z on the 21st should be within 2026-03-20 ± 1 day")
	}
	if protocol.InWindow(at, "2026-03-20", fixed) {
		t.Error("with the fixed offset it falls out of the window (the mistake)")
	}
}

func TestInWindow(t *testing.T) {
	loc := prodays.Casablanca
	for _, tc := range []struct {
		at   string
		date string
		want bool
	}{
		{"2026-03-23T09:00:00Z", "2026-03-23", true},
		{"2026-03-22T00:30:00Z", "2026-03-23", true},
		{"2026-03-24T22:59:00Z", "2026-03-23", true},
		{"2026-03-24T23:00:00Z", "2026-03-23", false}, // 00:00 on the 25th (UTC+1)
		{"2026-03-21T12:00:00Z", "2026-03-23", false},
		{"2026-03-23T09:00:00Z", "not-a-date", false},
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		if got := protocol.InWindow(at, tc.date, loc); got != tc.want {
			t.Errorf("InWindow(%s, %s) = %v, want %v", tc.at, tc.date, got, tc.want)
		}
	}
}

func TestOccurredAtCapAndSkew(t *testing.T) {
	receipt := time.Date(2026, 3, 23, 10, 0, 0, 0, time.UTC)
	client := receipt.Add(72 * time.Hour) // clock three days ahead
	off := protocol.ClockOffset(receipt, client)
	if off != -72*time.Hour || !protocol.Skewed(off) {
		t.Fatalf("offset %v", off)
	}
	occ, capped := protocol.OccurredAt(client.Add(-time.Hour), off, receipt)
	if !occ.Equal(receipt.Add(-time.Hour)) || capped {
		t.Fatalf("corrected: %v %v", occ, capped)
	}
	occ, capped = protocol.OccurredAt(client.Add(time.Hour), off, receipt)
	if !occ.Equal(receipt) || !capped {
		t.Fatalf("capped: %v %v", occ, capped)
	}
	if protocol.Skewed(4 * time.Minute) {
		t.Fatal("4 minutes is not skewed")
	}
}

func TestNameKey(t *testing.T) {
	same := [][2]string{
		{"Aït Brahim", "AIT BRAHIM"},
		{"N'Diaye", "ndiaye"},
		{"N’Diaye", "N Diaye"},
		{"Ae\u0301lie", "Aélie"}, // decomposed vs composed
		{"  El  Fassi ", "elfassi"},
	}
	for _, p := range same {
		if protocol.NameKey(p[0]) != protocol.NameKey(p[1]) {
			t.Errorf("NameKey(%q)=%q != NameKey(%q)=%q", p[0], protocol.NameKey(p[0]), p[1], protocol.NameKey(p[1]))
		}
	}
	if protocol.NameKey("Amine") == protocol.NameKey("Amina") {
		t.Error("different names share a key")
	}
}

// TestPresenceOrderIndependent: the observed-remove presence is the same
// for every order of the check-ins.
func TestPresenceOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 3, 23, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 500; i++ {
		n := r.IntN(6)
		var cs []protocol.CheckIn
		undone := map[string]bool{}
		for j := 0; j < n; j++ {
			id := string(rune('a' + j))
			cs = append(cs, protocol.CheckIn{ID: id, OccurredAt: base.Add(time.Duration(r.IntN(5)) * time.Minute)})
			if r.IntN(3) == 0 {
				undone[id] = true
			}
		}
		ov := []string{"", "", protocol.OverridePresent, protocol.OverrideAbsent}[r.IntN(4)]
		want := protocol.Presence(cs, undone, ov)
		for k := 0; k < 5; k++ {
			r.Shuffle(len(cs), func(a, b int) { cs[a], cs[b] = cs[b], cs[a] })
			if got := protocol.Presence(cs, undone, ov); !reflect.DeepEqual(got, want) {
				t.Fatalf("order changed presence: %+v vs %+v", got, want)
			}
		}
		surviving := 0
		for _, c := range cs {
			if !undone[c.ID] {
				surviving++
			}
		}
		wantPresent := surviving > 0
		if ov != "" {
			wantPresent = ov == protocol.OverridePresent
		}
		if want.Present != wantPresent {
			t.Fatalf("present %v, want %v", want.Present, wantPresent)
		}
	}
}

func TestStampOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 23, 9, 0, 0, 0, time.UTC)
	a := protocol.Stamp{OccurredAt: t0, DeviceID: "a", MutationID: "2"}
	b := protocol.Stamp{OccurredAt: t0, DeviceID: "b", MutationID: "1"}
	c := protocol.Stamp{OccurredAt: t0.Add(time.Millisecond), DeviceID: "a", MutationID: "0"}
	if !b.After(a) || a.After(b) || !c.After(b) {
		t.Fatal("stamp order")
	}
}

// TestClockOffsetBounded: a client_time at the ends of the years a
// timestamp can hold gives an offset within ±MaxClockOffset, and
// occurred_at stays within years 0001 to 9999.
func TestClockOffsetBounded(t *testing.T) {
	receipt := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	for _, ct := range []time.Time{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		off := protocol.ClockOffset(receipt, ct)
		if off < -protocol.MaxClockOffset || off > protocol.MaxClockOffset || !protocol.Skewed(off) {
			t.Errorf("protocol.ClockOffset(%v) = %v, want skewed within ±%v", ct, off, protocol.MaxClockOffset)
		}
		for _, rec := range []time.Time{receipt, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)} {
			occ, _ := protocol.OccurredAt(rec, off, receipt)
			if occ.Year() < 1 || occ.Year() > 9999 {
				t.Errorf("protocol.OccurredAt(%v, %v) = %v, outside years 0001-9999", rec, off, occ)
			}
			// The zero time means "no time" to the window check: a clamped
			// occurred_at must never be it, or it would skip the check.
			if occ.IsZero() {
				t.Errorf("protocol.OccurredAt(%v, %v) is the zero time, want a time the window check sees", rec, off)
			}
		}
	}
}
