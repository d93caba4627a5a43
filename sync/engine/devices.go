package engine

import (
	"context"
	"slices"
	"time"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
	"prodays/sync/protocol"
)

// What needs attention on a device (Device.Attention), most urgent first.
const (
	// AttentionPending: the phone still held mutations after its last push.
	AttentionPending = "pending"
	// AttentionGaps: seqs below the device's max_seq never arrived.
	AttentionGaps = "gaps"
	// AttentionNotSeen: not seen since DeviceQuery.NotSeenSince.
	AttentionNotSeen = "not_seen"
	// AttentionNotSyncedToday: a staff phone with no push today
	// (Africa/Casablanca); the consoles' browsers do not push.
	AttentionNotSyncedToday = "not_synced_today"
)

// Sort orders of Devices (DeviceQuery.Sort).
const (
	DeviceSortUser      = "user"      // by username, then device id (default)
	DeviceSortAttention = "attention" // what needs attention first
)

// DeviceQuery narrows and orders Devices. The zero value lists the
// caller's region by username.
type DeviceQuery struct {
	// Region: an admin's choice ("" all regions); a supervisor may only
	// name their own (forbidden otherwise).
	Region string
	// Sort is DeviceSortUser or DeviceSortAttention.
	Sort string
	// NotSeenSince, when not zero, marks devices whose last_seen_at is
	// before it (AttentionNotSeen).
	NotSeenSince time.Time
}

// DeviceSummary counts a device list (revoked devices are not counted).
type DeviceSummary struct {
	Total       int `json:"total"`
	SyncedToday int `json:"synced_today"`
	Pending     int `json:"pending"`
	Gaps        int `json:"gaps"`
	NotSeen     int `json:"not_seen"`
}

// DeviceList is the answer of Devices: Date is today in Africa/Casablanca
// (what synced_today means).
type DeviceList struct {
	Date    string        `json:"date"`
	Summary DeviceSummary `json:"summary"`
	Devices []Device      `json:"devices"`
}

// Devices answers "is every phone synced?" for p's region (admins: all,
// or q.Region): every device with what needs attention (pending after its
// last push, seq gaps, not seen since q.NotSeenSince, a staff phone with
// no push today), a
// summary, sorted by q.Sort. Errors: forbidden for a supervisor naming
// another region; invalid for an unknown sort.
func (e *Engine) Devices(ctx context.Context, p *prodays.Principal, q DeviceQuery) (_ *DeviceList, err error) {
	defer derrors.Wrap(&err, "engine.Devices")
	region, err := p.ReportRegion(q.Region)
	if err != nil {
		return nil, err
	}
	if q.Sort != "" && q.Sort != DeviceSortUser && q.Sort != DeviceSortAttention {
		return nil, prodays.Errorf(prodays.EInvalid, "sort must be %s or %s.", DeviceSortUser, DeviceSortAttention)
	}
	ds, err := e.loadDevices(ctx, region)
	if err != nil {
		return nil, err
	}
	l := &DeviceList{Date: protocol.LocalDay(e.now(), prodays.Casablanca), Devices: ds}
	for i := range ds {
		d := &ds[i]
		d.Attention = []string{}
		if at, err := store.ParseTime(d.LastPushAt); err == nil && !at.IsZero() {
			d.SyncedToday = protocol.LocalDay(at, prodays.Casablanca) == l.Date
		}
		if d.Revoked {
			continue
		}
		if d.OutboxSize > 0 {
			d.Attention = append(d.Attention, AttentionPending)
		}
		if len(d.SeqGaps) > 0 {
			d.Attention = append(d.Attention, AttentionGaps)
		}
		if seen, err := store.ParseTime(d.LastSeenAt); err == nil && !q.NotSeenSince.IsZero() && seen.Before(q.NotSeenSince) {
			d.Attention = append(d.Attention, AttentionNotSeen)
		}
		if !d.SyncedToday && d.Role == prodays.RoleStaff {
			d.Attention = append(d.Attention, AttentionNotSyncedToday)
		}
		l.Summary.add(d)
	}
	if q.Sort == DeviceSortAttention {
		slices.SortStableFunc(ds, func(a, b Device) int {
			if c := attentionRank(a) - attentionRank(b); c != 0 {
				return c
			}
			return int(b.OutboxSize - a.OutboxSize)
		})
	}
	return l, nil
}

func (s *DeviceSummary) add(d *Device) {
	s.Total++
	if d.SyncedToday {
		s.SyncedToday++
	}
	for _, a := range d.Attention {
		switch a {
		case AttentionPending:
			s.Pending++
		case AttentionGaps:
			s.Gaps++
		case AttentionNotSeen:
			s.NotSeen++
		}
	}
}

// attentionRank is 0 for a device whose most urgent need is pending
// mutations, then gaps, not seen, not synced today; revoked devices and
// devices needing nothing come last.
func attentionRank(d Device) int {
	if len(d.Attention) == 0 {
		if d.Revoked {
			return 6
		}
		return 5
	}
	return slices.Index([]string{AttentionPending, AttentionGaps, AttentionNotSeen, AttentionNotSyncedToday}, d.Attention[0])
}
