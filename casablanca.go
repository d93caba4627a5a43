package prodays

import (
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
