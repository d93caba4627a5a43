package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
)

// Names of the review read model: who a card is about and who recorded
// it, by name (issue #18, finding 6). A card shows the trainee's (or
// speaker's) "last first" name and the staff member's full name; the ids
// stay beside them for the record.

// namer looks names up once each (a queue of 1,000 items names a few
// hundred people and a few dozen staff members).
type namer struct {
	ctx    context.Context
	db     *sql.DB
	people map[[2]string]string
	staff  map[string]string
	err    error
}

func (e *Engine) namer(ctx context.Context) *namer {
	return &namer{ctx: ctx, db: e.DB.Read, people: map[[2]string]string{}, staff: map[string]string{}}
}

// one runs a one-string query; no row is "".
func (n *namer) one(q string, args ...any) string {
	if n.err != nil {
		return ""
	}
	var s string
	if err := n.db.QueryRowContext(n.ctx, q, args...).Scan(&s); err != nil && !errors.Is(err, sql.ErrNoRows) {
		n.err = err
	}
	return s
}

// person returns the "last first" name of a trainee or speaker ("" when
// unknown).
func (n *namer) person(kind, id string) string {
	if id == "" {
		return ""
	}
	k := [2]string{kind, id}
	if s, ok := n.people[k]; ok {
		return s
	}
	table := "trainees"
	if kind == "speaker" {
		table = "speakers"
	}
	s := n.one(`SELECT last_name || ' ' || first_name FROM `+table+` WHERE id = ?`, id)
	n.people[k] = s
	return s
}

// user returns a user's full name (their username when it has none).
func (n *namer) user(username string) string {
	if username == "" {
		return ""
	}
	if s, ok := n.staff[username]; ok {
		return s
	}
	s := n.one(`SELECT COALESCE(NULLIF(full_name, ''), username) FROM users WHERE username = ?`, username)
	n.staff[username] = s
	return s
}

// device returns the full name of a device's user.
func (n *namer) device(id string) string {
	if id == "" {
		return ""
	}
	return n.user(n.one(`SELECT username FROM devices WHERE id = ?`, id))
}

// payloadPerson reads the person a mutation's payload names: a check-in's
// person, else its trainee_id (trainee.update) or trainee.id.
func payloadPerson(payload json.RawMessage) (kind, id string) {
	var p struct {
		Person *struct {
			Kind string `json:"kind"`
			ID   string `json:"id"`
		} `json:"person"`
		TraineeID string `json:"trainee_id"`
		Trainee   *struct {
			ID string `json:"id"`
		} `json:"trainee"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return "", ""
	}
	switch {
	case p.Person != nil:
		return p.Person.Kind, p.Person.ID
	case p.TraineeID != "":
		return "trainee", p.TraineeID
	case p.Trainee != nil:
		return "trainee", p.Trainee.ID
	}
	return "", ""
}

// named fills each of xs (a list read with err) with fill, given a namer
// that looks each name up once.
func named[T any](ctx context.Context, e *Engine, xs []T, err error, fill func(*namer, *T)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	n := e.namer(ctx)
	for i := range xs {
		fill(n, &xs[i])
	}
	return xs, n.err
}

// nameFlag fills a flag's PersonName and StaffName.
func nameFlag(n *namer, f *Flag) {
	kind, id := payloadPerson(f.Payload)
	f.PersonName, f.StaffName = n.person(kind, id), n.device(f.DeviceID)
}

// nameConflict fills a conflict's TraineeName, WinnerStaffName and
// LoserStaffName.
func nameConflict(n *namer, c *Conflict) {
	c.TraineeName = n.person("trainee", c.TraineeID)
	c.WinnerStaffName, c.LoserStaffName = n.device(c.WinnerDeviceID), n.device(c.LoserDeviceID)
}

// nameQuarantined fills a refused mutation's PersonName and StaffName.
func nameQuarantined(n *namer, m *QuarantinedMutation) {
	kind, id := payloadPerson(m.Payload)
	m.PersonName, m.StaffName = n.person(kind, id), n.user(m.Username)
}

// describeProposal fills a proposal's WalkIn and Candidate facts.
func describeProposal(n *namer, m *MergeProposal) {
	m.WalkIn, m.Candidate = n.traineeFacts(m.WalkInID), n.traineeFacts(m.CandidateID)
}

// traineeFacts returns what a merge proposal shows of a trainee (none
// when unknown).
func (n *namer) traineeFacts(id string) TraineeFacts {
	var f TraineeFacts
	if n.err != nil {
		return f
	}
	err := n.db.QueryRowContext(n.ctx, `SELECT t.last_name || ' ' || t.first_name, t.establishment_code, COALESCE(es.name, ''), t.program, t.group_name
		FROM trainees t LEFT JOIN establishments es ON es.code = t.establishment_code WHERE t.id = ?`, id).
		Scan(&f.Name, &f.EstablishmentCode, &f.EstablishmentName, &f.Program, &f.Group)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		n.err = err
	}
	return f
}
