package prodays

import (
	"sort"
	"time"
	_ "time/tzdata" // Africa/Casablanca without the system's zoneinfo
)

// Casablanca is Africa/Casablanca, the time zone of every local date and
// time of prodays: the activities' dates, the date window of a check-in,
// the exports' local times. Morocco is UTC+1, and UTC+0 during Ramadan, so
// no fixed offset will do. The tz database is embedded in this package:
// the location is always there.
var Casablanca = mustLoadLocation("Africa/Casablanca")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is embedded: cannot happen
	}
	return loc
}

// NearestDay returns today when it is one of days (sorted YYYY-MM-DD) or
// days is empty, else the day of days nearest to today: the first day
// before the edition, the last one after it, the next one in a gap.
func NearestDay(days []string, today string) string {
	if len(days) == 0 {
		return today
	}
	i := sort.SearchStrings(days, today)
	switch {
	case i < len(days) && days[i] == today:
		return today
	case i == len(days):
		return days[len(days)-1]
	}
	return days[i]
}
