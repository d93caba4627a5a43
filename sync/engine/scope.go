package engine

import (
	"database/sql"
	"errors"
	"fmt"

	"prodays"
	"prodays/store"
	"prodays/sync/protocol"
)

// A mutation is held by the scope rules at the moment it takes effect, not
// only when it arrives (sync protocol 1.1, Mutations; issue #13). Every
// path by which a mutation takes effect asks admit, with the scope of the
// user who pushed it:
//
//   - on arrival (checkIn, undo, register, update), with the session's
//     principal;
//   - a check-in or a trainee.update held for a walk-in's registration,
//     when the registration arrives (releaseHeld, releaseHeldUpdates);
//   - a late or out-of-window check-in or undo, when a supervisor accepts
//     its flag (settleFlagged);
//
// the last two with the pusher's scope as the users table says now
// (pusherOf). A mutation admit refuses is rejected with admit's code, kept
// in the quarantine (mutation_log, status rejected) and never applied.

// admit decides whether mutation m of p may take effect now. It returns
// nil to go ahead, or the refusal:
//
//   - attendance.check_in, attendance.undo: unknown_activity (no activity
//     m.ActivityID), out_of_scope (the activity is outside p's scope,
//     inScope);
//   - trainee.register: unknown_establishment, walk_in_refused (the
//     walk-in's establishment is outside p's scope: staff their
//     establishment, supervisors their region);
//   - trainee.update: unknown_establishment (fields.establishment_code
//     names none), out_of_scope (that establishment, or the trainee, is
//     outside p's region). A trainee not found (a walk-in not registered
//     yet, or a mistyped matricule) is left to the caller, which holds or
//     refuses the update.
//
// A p without a role (pusherOf of a user who no longer exists or is
// disabled, or of a revoked device) is out of every scope. Errors are
// internal (database) only.
func (t *txc) admit(p *prodays.Principal, m *protocol.Mutation) (*outcome, error) {
	refuse := func(code, format string, args ...any) (*outcome, error) {
		o := rejected(code, format, args...)
		return &o, nil
	}
	if p.Role == "" {
		return refuse(protocol.CodeOutOfScope, "The account or device that recorded it no longer has a scope (disabled, revoked or removed).")
	}
	switch m.Type {
	case protocol.TypeCheckIn, protocol.TypeUndo:
		act, err := t.activity(m.ActivityID)
		if err != nil {
			return nil, err
		}
		if act == nil {
			return refuse(protocol.CodeUnknownActivity, "No activity %q.", m.ActivityID)
		}
		if !inScope(p, act) {
			return refuse(protocol.CodeOutOfScope, "Activity %s is outside your scope.", act.ID)
		}
	case protocol.TypeTraineeRegister:
		tr := m.Trainee
		region, ok, err := t.establishmentRegion(tr.EstablishmentCode)
		if err != nil {
			return nil, err
		}
		if !ok {
			return refuse(protocol.CodeUnknownEstablishment, "No establishment %q.", tr.EstablishmentCode)
		}
		in := false
		switch p.Role {
		case prodays.RoleAdmin:
			in = true
		case prodays.RoleSupervisor:
			in = p.RegionCode != "" && region == p.RegionCode
		case prodays.RoleStaff:
			in = p.EstablishmentCode != "" && tr.EstablishmentCode == p.EstablishmentCode
		}
		if !in {
			return refuse(protocol.CodeWalkInRefused, "You may not register walk-ins for establishment %s.", tr.EstablishmentCode)
		}
	case protocol.TypeTraineeUpdate:
		// The fields first: their refusal does not depend on whether the
		// trainee is known yet (a held update is refused on arrival, with
		// the code it would get after the registration).
		if est, ok := m.Fields["establishment_code"]; ok {
			region, known, err := t.establishmentRegion(est)
			if err != nil {
				return nil, err
			}
			if !known {
				return refuse(protocol.CodeUnknownEstablishment, "No establishment %q.", est)
			}
			if !inRegion(p, region) {
				return refuse(protocol.CodeOutOfScope, "Establishment %s is outside your scope.", est)
			}
		}
		tr, err := t.resolveTrainee(m.TraineeID)
		if err != nil {
			return nil, err
		}
		if tr != nil && !inRegion(p, tr.Region) {
			return refuse(protocol.CodeOutOfScope, "Trainee %s is outside your scope.", tr.ID)
		}
	default:
		return refuse(protocol.CodeUnknownType, "This server does not know mutations of type %q.", m.Type)
	}
	return nil, nil
}

// inRegion reports whether p may change trainees of region: admins
// anywhere, others in their own region (a staff user's is their
// establishment's).
func inRegion(p *prodays.Principal, region string) bool {
	if p.Role == prodays.RoleAdmin {
		return true
	}
	return (p.Role == prodays.RoleStaff || p.Role == prodays.RoleSupervisor) && p.RegionCode != "" && region == p.RegionCode
}

// establishmentRegion returns the region of establishment code, and false
// when there is no such establishment.
func (t *txc) establishmentRegion(code string) (string, bool, error) {
	var region string
	err := t.QueryRowContext(t.ctx, `SELECT region_code FROM establishments WHERE code = ?`, code).Scan(&region)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("establishment %s: %w", code, err)
	}
	return region, true, nil
}

// pusherOf returns the scope of username pushing from deviceID as the
// users and devices tables hold it now: the scope a held mutation is
// checked against when it takes effect, as if it had arrived then. A user
// who no longer exists or is disabled, or a revoked device, has no role
// (out of every scope: such a push would be refused now).
func (t *txc) pusherOf(username, deviceID string) (*prodays.Principal, error) {
	p := &prodays.Principal{Username: username, DeviceID: deviceID}
	var est, region sql.NullString
	var disabled bool
	err := t.QueryRowContext(t.ctx, `SELECT role, establishment_code, region_code, disabled FROM users WHERE username = ?`, username).
		Scan(&p.Role, &est, &region, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	} else if err != nil {
		return nil, fmt.Errorf("user %s: %w", username, err)
	}
	var revoked bool
	err = t.QueryRowContext(t.ctx, `SELECT revoked_at IS NOT NULL FROM devices WHERE id = ?`, deviceID).Scan(&revoked)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("device %s: %w", deviceID, err)
	}
	if disabled || revoked {
		p.Role = ""
		return p, nil
	}
	p.EstablishmentCode, p.RegionCode = est.String, region.String
	if p.Role == prodays.RoleStaff && p.RegionCode == "" {
		// A staff user's region is their establishment's.
		p.RegionCode, _, err = t.establishmentRegion(p.EstablishmentCode)
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// refuseHeldMutation rejects held mutation id as it takes effect: its
// mutation_log row becomes rejected with o's code and message (the
// quarantine: the pushing phone gets it as a duplicate's outcome,
// supervisors list it), its flag flagID (when not 0) is decided by the
// system with that reason, and a check-in's row is marked rejected.
func (t *txc) refuseHeldMutation(id string, flagID int64, o outcome, checkIn bool) error {
	if _, err := t.exec(`UPDATE mutation_log SET status = 'rejected', code = ?, message = ? WHERE id = ?`, o.code, o.message, id); err != nil {
		return fmt.Errorf("refuse held %s: %w", id, err)
	}
	if flagID != 0 {
		if _, err := t.exec(`UPDATE flags SET status = 'rejected', decided_by = 'system', decided_at = ?, reason = ? WHERE id = ?`,
			store.FormatTime(t.now), o.message, flagID); err != nil {
			return err
		}
	}
	if checkIn {
		if _, err := t.exec(`UPDATE checkins SET status = 'rejected' WHERE id = ?`, id); err != nil {
			return err
		}
	}
	return nil
}

// admitHeld decides held mutation id (its flag flagID) as it takes
// effect, in the scope its pusher p has now (admit): admitted, the flag is
// accepted by the system ("registration arrived") and admitHeld returns
// true; refused, the mutation is rejected (refuseHeldMutation) and it
// returns false.
func (t *txc) admitHeld(p *prodays.Principal, m *protocol.Mutation, id string, flagID int64, checkIn bool) (bool, error) {
	o, err := t.admit(p, m)
	if err != nil {
		return false, err
	}
	if o != nil {
		return false, t.refuseHeldMutation(id, flagID, *o, checkIn)
	}
	if _, err := t.exec(`UPDATE flags SET status = 'accepted', decided_by = 'system', decided_at = ?, reason = 'registration arrived' WHERE id = ?`,
		store.FormatTime(t.now), flagID); err != nil {
		return false, err
	}
	return true, nil
}

// settleHeldOutcome records in mutation_log the outcome a held mutation
// got when it took effect (applied, or flagged again with o's code), so
// that a phone that sends it again learns it.
func (t *txc) settleHeldOutcome(id string, o outcome) error {
	_, err := t.exec(`UPDATE mutation_log SET status = ?, code = ?, message = ? WHERE id = ?`, o.status, o.code, o.message, id)
	return err
}

// inScope reports whether p may record attendance at a (sync protocol
// guarantee 4): the domain's rule, prodays.Scope.SeesActivity.
func inScope(p *prodays.Principal, a *activity) bool {
	return p.SeesActivity(a.Region, a.Establishment)
}
