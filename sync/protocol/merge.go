package protocol

import (
	"sort"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// CheckIn is what the presence rule needs of an applied check-in.
type CheckIn struct {
	ID         string
	OccurredAt time.Time
}

// Override values of a supervisor's decision on a presence.
const (
	OverridePresent = "present"
	OverrideAbsent  = "absent"
)

// PresenceState is the presence of a person at an activity: Present,
// CheckedInAt (the earliest surviving occurred_at; zero when none) and the
// surviving check-in ids, sorted by (occurred_at, id).
type PresenceState struct {
	Present     bool
	CheckedInAt time.Time
	Surviving   []CheckIn
}

// Presence computes the observed-remove presence (sync protocol, Presence):
// a person is present when at least one applied check-in is not named by an
// applied undo, unless override is "absent"; or when override is "present".
// undone holds the ids named by applied undos (whether or not their
// check-ins arrived). The result does not depend on the order of checkIns.
func Presence(checkIns []CheckIn, undone map[string]bool, override string) PresenceState {
	var st PresenceState
	for _, c := range checkIns {
		if !undone[c.ID] {
			st.Surviving = append(st.Surviving, c)
		}
	}
	sort.Slice(st.Surviving, func(i, j int) bool {
		a, b := st.Surviving[i], st.Surviving[j]
		if !a.OccurredAt.Equal(b.OccurredAt) {
			return a.OccurredAt.Before(b.OccurredAt)
		}
		return a.ID < b.ID
	})
	if len(st.Surviving) > 0 {
		st.CheckedInAt = st.Surviving[0].OccurredAt
	}
	switch override {
	case OverridePresent:
		st.Present = true
	case OverrideAbsent:
		st.Present = false
	default:
		st.Present = len(st.Surviving) > 0
	}
	return st
}

// Stamp orders the writes of a trainee field (sync protocol, Trainee
// fields): by OccurredAt, then DeviceID, then the mutation ID.
type Stamp struct {
	OccurredAt time.Time
	DeviceID   string
	MutationID string
}

// After reports whether s wins over t in last-writer-wins order. Two
// distinct mutations never tie (their ids differ).
func (s Stamp) After(t Stamp) bool {
	if !s.OccurredAt.Equal(t.OccurredAt) {
		return s.OccurredAt.After(t.OccurredAt)
	}
	if s.DeviceID != t.DeviceID {
		return s.DeviceID > t.DeviceID
	}
	return s.MutationID > t.MutationID
}

// SkewThreshold is the clock offset over which a device is marked as
// skewed for its supervisor (sync protocol, Time).
const SkewThreshold = 5 * time.Minute

// MaxClockOffset bounds the clock offset of a batch: ten years (3,653
// days). A phone further off is marked skewed all the same; the bound
// keeps occurred_at = recorded_at + offset within years 0001 to 9999
// (time.Time.Sub saturates at ±292 years, which gave negative years).
const MaxClockOffset = 3653 * 24 * time.Hour

// ClockOffset returns the offset of a batch: server receipt − client_time,
// truncated to milliseconds and clamped to ±MaxClockOffset.
func ClockOffset(receipt, clientTime time.Time) time.Duration {
	return min(max(receipt.Sub(clientTime), -MaxClockOffset), MaxClockOffset).Truncate(time.Millisecond)
}

// minTime and maxTime bound every stored time: years 0001 to 9999 in UTC.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	// minOccurred is the earliest occurred_at OccurredAt returns.
	minOccurred = minTime.Add(24 * time.Hour)
)

// storable reports whether t is within years 0001 to 9999 in UTC (how
// times are stored).
func storable(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }

// Skewed reports whether an offset deserves the skew mark (|offset| > 5 min).
func Skewed(offset time.Duration) bool {
	return offset > SkewThreshold || offset < -SkewThreshold
}

// OccurredAt corrects a mutation's recorded_at by the batch's offset. A
// result later than receipt is set to receipt and capped is true (the
// phone's clock went wrong while offline); one before year 0001 is set to
// its first instant.
func OccurredAt(recordedAt time.Time, offset time.Duration, receipt time.Time) (occurred time.Time, capped bool) {
	occurred = recordedAt.Add(offset)
	if occurred.Before(minOccurred) {
		// A recorded_at near year 1 and a negative offset. Not minTime
		// itself: that is the zero time, which the window check reads as
		// "no time" and would let through.
		occurred = minOccurred
	}
	if occurred.After(receipt) {
		return receipt, true
	}
	return occurred, false
}

// InWindow reports whether occurredAt's calendar day in loc (Africa/
// Casablanca) is within activityDate (YYYY-MM-DD) ± 1 day. An unparsable
// date is outside.
func InWindow(occurredAt time.Time, activityDate string, loc *time.Location) bool {
	d, err := time.ParseInLocation("2006-01-02", activityDate, time.UTC)
	if err != nil {
		return false
	}
	l := occurredAt.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	diff := day.Sub(d)
	return diff >= -24*time.Hour && diff <= 24*time.Hour
}

// LocalDay returns t's calendar day (YYYY-MM-DD) in loc.
func LocalDay(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02")
}

// NameKey normalises a name for likely-duplicate detection of walk-ins:
// case folded, accents dropped (NFD, then combining marks removed), and
// spaces, apostrophes (straight and typographic), hyphens and dots removed.
// "Aït-Brahim", "ait brahim" and "AIT’BRAHIM" share a key.
func NameKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsSpace(r), unicode.IsPunct(r), r == '`', r == '´', r == 'ʼ', r == 'ʻ':
		default:
			b.WriteRune(unicode.ToLower(unicode.ToUpper(r)))
		}
	}
	return b.String()
}

// PersonKey is the key of a walk-in's likely duplicates: the normalised
// last and first names.
func PersonKey(lastName, firstName string) string {
	return NameKey(lastName) + "|" + NameKey(firstName)
}
