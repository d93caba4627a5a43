// Package synctest seeds a small roster for the sync engine's tests and
// builds mutations the way a phone does.
package synctest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"prodays"
	"prodays/internal/uuid7"
	"prodays/store"
	"prodays/sync/protocol"
)

// The seeded roster: two establishments in RSK (E1, E2), one in CS (E3);
// trainees T1..T9 of E1, U1..U3 of E2, V1..V3 of E3 (matricule-shaped
// ids); speakers S1, S2; meetings A1 (E1, 2026-03-23), A2 (E1, 2026-03-24),
// A3 (E2) and B1 (E3), all open.
const (
	Date = "2026-03-23"
)

// Trainee ids of the seeded roster.
var (
	TraineesE1 = []string{"F25000100001A", "F25000100002B", "F25000100003C", "F25000100004D", "F25000100005E", "F25000100006F", "F25000100007G", "F25000100008H", "F25000100009J"}
	TraineesE2 = []string{"F25000200001A", "F25000200002B", "F25000200003C"}
	TraineesE3 = []string{"F25000300001A", "F25000300002B", "F25000300003C"}
)

// Seed inserts the roster into db.
func Seed(tb testing.TB, db *store.DB) {
	tb.Helper()
	now := store.FormatTime(time.Now())
	stmts := []string{
		`INSERT INTO establishments (code, name, city, region_code) VALUES ('E1', 'ISTA Rabat', 'Rabat', 'RSK'), ('E2', 'ITA Salé', 'Salé', 'RSK'), ('E3', 'ISTA Anfa', 'Casablanca', 'CS')`,
		`INSERT INTO organizations (id, name, type) VALUES ('O1', 'Org', 'company')`,
		`INSERT INTO speakers (id, last_name, first_name, organization_id, title) VALUES ('S1', 'Bennani', 'Sara', 'O1', 'CEO'), ('S2', 'Alaoui', 'Omar', 'O1', '')`,
		`INSERT INTO companies (id, name, sector, city, region_code) VALUES ('C1', 'Renault', 'Auto', 'Tanger', 'TTA')`,
		`INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, company_id, region_code, capacity) VALUES
			('A1', 'meeting', 'M1', '2026-03-23', '09:00', '11:00', 'E1', NULL, 'RSK', 50),
			('A2', 'meeting', 'M2', '2026-03-24', '09:00', '11:00', 'E1', NULL, 'RSK', 50),
			('A3', 'company_visit', 'V', '2026-03-23', '09:00', '11:00', 'E2', 'C1', 'TTA', 20),
			('B1', 'meeting', 'M3', '2026-03-23', '09:00', '11:00', 'E3', NULL, 'CS', 50)`,
		`INSERT INTO activity_speakers (activity_id, speaker_id, position) VALUES ('A1', 'S1', 1), ('B1', 'S2', 1)`,
	}
	err := db.WithTx(context.Background(), func(tx *sql.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(s); err != nil {
				return fmt.Errorf("%s: %w", s[:40], err)
			}
		}
		for est, ids := range map[string][]string{"E1": TraineesE1, "E2": TraineesE2, "E3": TraineesE3} {
			for i, id := range ids {
				if _, err := tx.Exec(`INSERT INTO trainees (id, last_name, first_name, establishment_code, program, group_name, gender, updated_at) VALUES (?, ?, ?, ?, 'Dev', 'G1', 'F', ?)`,
					id, fmt.Sprintf("Nom%d", i), fmt.Sprintf("Prenom%s%d", est, i), est, now); err != nil {
					return err
				}
			}
		}
		for _, u := range []struct{ name, role, est, reg string }{
			{"staff1", "staff", "E1", "RSK"}, {"staff2", "staff", "E2", "RSK"}, {"staff3", "staff", "E3", "CS"},
			{"sup1", "supervisor", "", "RSK"}, {"sup3", "supervisor", "", "CS"}, {"admin", "admin", "", ""},
		} {
			if _, err := tx.Exec(`INSERT OR IGNORE INTO users (username, role, establishment_code, region_code, created_at, updated_at) VALUES (?, ?, NULLIF(?, ''), NULLIF(?, ''), ?, ?)`,
				u.name, u.role, u.est, u.reg, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// Principal returns the caller of one of the seeded users on device.
func Principal(username, device string) *prodays.Principal {
	p := &prodays.Principal{Username: username, DeviceID: device}
	switch username {
	case "staff1":
		p.Scope = prodays.Scope{Role: "staff", EstablishmentCode: "E1", RegionCode: "RSK"}
	case "staff2":
		p.Scope = prodays.Scope{Role: "staff", EstablishmentCode: "E2", RegionCode: "RSK"}
	case "staff3":
		p.Scope = prodays.Scope{Role: "staff", EstablishmentCode: "E3", RegionCode: "CS"}
	case "sup1":
		p.Scope = prodays.Scope{Role: "supervisor", RegionCode: "RSK"}
	case "sup3":
		p.Scope = prodays.Scope{Role: "supervisor", RegionCode: "CS"}
	default:
		p.Scope = prodays.Scope{Role: "admin"}
	}
	return p
}

// Phone builds mutations as a phone does: ids, seq counter, clock.
type Phone struct {
	DeviceID string
	Seq      int64
	// Clock is the phone's clock (recorded_at); it advances by a second
	// for each mutation.
	Clock time.Time
}

// NewPhone returns a phone whose clock starts at start.
func NewPhone(deviceID string, start time.Time) *Phone {
	return &Phone{DeviceID: deviceID, Clock: start}
}

func (p *Phone) next(typ string) protocol.Mutation {
	p.Seq++
	p.Clock = p.Clock.Add(time.Second)
	return protocol.Mutation{ID: V7(p.Clock, p.DeviceID, p.Seq), Seq: p.Seq, Type: typ, RecordedAt: p.Clock}
}

// V7 returns a time-ordered UUIDv7 (RFC 9562) as the app makes them: the
// phone's clock in milliseconds, then bits derived from the device and seq
// (instead of random ones, so that a seeded history is reproducible).
func V7(clock time.Time, device string, seq int64) string {
	return uuid7.Derived(clock, device, seq)
}

// CheckIn records a check-in.
func (p *Phone) CheckIn(activity, kind, id string) protocol.Mutation {
	m := p.next(protocol.TypeCheckIn)
	m.ActivityID, m.Person, m.Method = activity, &protocol.Person{Kind: kind, ID: id}, protocol.MethodQR
	return m
}

// Undo records an undo of the named check-ins.
func (p *Phone) Undo(activity, kind, id string, undoes ...string) protocol.Mutation {
	m := p.next(protocol.TypeUndo)
	m.ActivityID, m.Person, m.Undoes = activity, &protocol.Person{Kind: kind, ID: id}, append([]string{}, undoes...)
	return m
}

// Register records a walk-in; it returns the mutation (its Trainee.ID is a
// new UUID derived from the device and seq).
func (p *Phone) Register(est, last, first string) protocol.Mutation {
	m := p.next(protocol.TypeTraineeRegister)
	id := uuid.NewSHA1(uuid.NameSpaceURL, []byte(m.ID)).String()
	m.Trainee = &protocol.TraineeFields{ID: id, LastName: last, FirstName: first, EstablishmentCode: est, Gender: "M"}
	return m
}

// Update records a trainee.update.
func (p *Phone) Update(traineeID string, base int64, fields map[string]string) protocol.Mutation {
	m := p.next(protocol.TypeTraineeUpdate)
	m.TraineeID, m.Fields, m.BaseVersion = traineeID, fields, &base
	return m
}

// Body returns the JSON push body of mutations sent at clientTime.
func Body(deviceID string, clientTime time.Time, outbox int, ms ...protocol.Mutation) []byte {
	raw := make([]json.RawMessage, len(ms))
	for i, m := range ms {
		raw[i], _ = json.Marshal(m)
	}
	b, _ := json.Marshal(map[string]any{"device_id": deviceID, "client_time": clientTime.Format(time.RFC3339Nano),
		"app_version": "1.0.0", "outbox_size": outbox, "mutations": raw})
	return b
}

// Request returns the decoded push request of mutations (through
// protocol.DecodePush, as the server sees them).
func Request(tb testing.TB, deviceID string, clientTime time.Time, ms ...protocol.Mutation) *protocol.PushRequest {
	tb.Helper()
	req, err := protocol.DecodePush(Body(deviceID, clientTime, len(ms), ms...))
	if err != nil {
		tb.Fatal(err)
	}
	return req
}
