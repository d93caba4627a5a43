package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"prodays/sync/review"
)

// devicesCSVHeader is the header row of the devices CSV: stable machine
// names, as the other CSV exports (docs/exports.md).
var devicesCSVHeader = []string{"device_id", "username", "role", "region_code", "last_seen_at", "last_push_at", "synced_today",
	"pending", "seq_gaps", "clock_offset_ms", "clock_skewed", "app_version", "revoked", "attention"}

// WriteDevicesCSV writes devices as CSV (RFC 4180, comma, UTF-8) in the
// list's order: times in Africa/Casablanca with their offset, seq gaps as
// "from-to" ranges joined by spaces, attention codes joined by spaces,
// the texts a client chose (device id, username, app version) neutralised
// against formula injection (Neutralize); numbers stay numbers.
func (Documents) WriteDevicesCSV(w io.Writer, ds []review.Device) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(devicesCSVHeader); err != nil {
		return err
	}
	for _, d := range ds {
		gaps := make([]string, len(d.SeqGaps))
		for i, g := range d.SeqGaps {
			gaps[i] = fmt.Sprintf("%d-%d", g[0], g[1])
		}
		row := []string{Neutralize(d.ID), Neutralize(d.Username), d.Role, d.RegionCode, LocalTime(d.LastSeenAt), LocalTime(d.LastPushAt),
			strconv.FormatBool(d.SyncedToday), strconv.FormatInt(d.OutboxSize, 10), strings.Join(gaps, " "),
			strconv.FormatInt(d.ClockOffsetMS, 10), strconv.FormatBool(d.ClockSkewed), Neutralize(d.AppVersion), strconv.FormatBool(d.Revoked),
			strings.Join(d.Attention, " ")}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
