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
	if q.Sort != "" && q.Sort != review.DeviceSortUser && q.Sort != review.DeviceSortAttention {
		return nil, prodays.Errorf(prodays.EInvalid, "sort must be %s or %s.", review.DeviceSortUser, review.DeviceSortAttention)
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
			d.Attention = append(d.Attention, review.AttentionPending)
		}
		if len(d.SeqGaps) > 0 {
			d.Attention = append(d.Attention, review.AttentionGaps)
		}
		if seen, err := store.ParseTime(d.LastSeenAt); err == nil && !q.NotSeenSince.IsZero() && seen.Before(q.NotSeenSince) {
			d.Attention = append(d.Attention, review.AttentionNotSeen)
		}
		if !d.SyncedToday && d.Role == prodays.RoleStaff {
			d.Attention = append(d.Attention, review.AttentionNotSyncedToday)
		}
		addToSummary(&l.Summary, d)
	}
	if q.Sort == review.DeviceSortAttention {
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
		case review.AttentionPending:
			s.Pending++
		case review.AttentionGaps:
			s.Gaps++
		case review.AttentionNotSeen:
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
	return slices.Index([]string{review.AttentionPending, review.AttentionGaps, review.AttentionNotSeen, review.AttentionNotSyncedToday}, d.Attention[0])
}
