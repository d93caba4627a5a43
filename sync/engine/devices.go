package engine

import (
	"context"
	"slices"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
	"prodays/sync/protocol"
	"prodays/sync/review"
)

// Constants of review (see there).
const (
	AttentionPending        = review.AttentionPending
	AttentionGaps           = review.AttentionGaps
	AttentionNotSeen        = review.AttentionNotSeen
	AttentionNotSyncedToday = review.AttentionNotSyncedToday
)

// Constants of review (see there).
const (
	DeviceSortUser      = review.DeviceSortUser
	DeviceSortAttention = review.DeviceSortAttention
)

// DeviceQuery is review.DeviceQuery.
type DeviceQuery = review.DeviceQuery

// DeviceSummary is review.DeviceSummary.
type DeviceSummary = review.DeviceSummary

// DeviceList is review.DeviceList.
type DeviceList = review.DeviceList

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
		addToSummary(&l.Summary, d)
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

// addToSummary counts d in s.
func addToSummary(s *DeviceSummary, d *Device) {
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
