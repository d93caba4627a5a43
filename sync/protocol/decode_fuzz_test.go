package protocol

import (
	"strings"
	"testing"

	"prodays"
)

// FuzzDecodePush decodes any body. DecodePush never panics; it refuses the
// push with invalid or too_large, or answers one mutation per element, and
// every mutation it accepts passes the validation of the domain: text
// fields as prodays.CheckText leaves them, ids accepted by it, seq and
// base_version from 1 to MaxInteger. A refused mutation never keeps a seq
// above MaxInteger (it would move the device's max_seq).
func FuzzDecodePush(f *testing.F) {
	reg := `{"id":"` + boundsID + `","seq":2,"type":"trainee.register","recorded_at":"2026-03-23T09:00:00Z","trainee":{"id":"0190a6b2-0000-7000-8000-0000000000ff","last_name":" Aït\u0000","first_name":"Noura","establishment_code":"E1","program":"Dev","group":"G1","gender":"F"}}`
	upd := `{"id":"0190a6b2-0000-7000-8000-000000000003","seq":3,"type":"trainee.update","recorded_at":"2026-03-23T09:00:00Z","trainee_id":"T1","base_version":9007199254740991,"fields":{"last_name":"E\u001bsc","group":"G\u0085"}}`
	f.Add([]byte(pushOf(checkInSeq("1"))))
	f.Add([]byte(pushOf(checkInSeq("9223372036854775807"), reg, upd)))
	f.Add([]byte(pushOf(checkInSeq("9007199254740991"), strings.Replace(reg, `\u0000`, "", 1))))
	f.Add([]byte(`{"device_id":"d\u0007","client_time":"2026-03-23T10:00:00Z","outbox_size":9007199254740992,"mutations":[]}`))
	f.Add([]byte(`{"device_id":"d","client_time":"2026-03-23T10:00:00Z","mutations":[{"id":"x","seq":-1,"type":"nope"},null,7]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodePush(body)
		if err != nil {
			if code := prodays.ErrorCode(err); code != prodays.EInvalid && code != prodays.ETooLarge {
				t.Fatalf("code %s: %v", code, err)
			}
			return
		}
		if err := checkCode("device_id", req.DeviceID); err != nil || req.OutboxSize < 0 || req.OutboxSize > MaxInteger {
			t.Fatalf("envelope accepted: device_id %q (%v), outbox_size %d", req.DeviceID, err, req.OutboxSize)
		}
		if _, err := prodays.CheckText("app_version", req.AppVersion, appVersionRule); err != nil {
			t.Fatalf("app_version accepted: %v", err)
		}
		for i, m := range req.Mutations {
			if m.Seq > MaxInteger {
				t.Fatalf("mutation %d keeps seq %d", i, m.Seq)
			}
			if m.Invalid != nil {
				continue
			}
			if m.Seq < 1 {
				t.Fatalf("mutation %d accepted with seq %d", i, m.Seq)
			}
			same := func(field, v string, r prodays.TextRule) {
				t.Helper()
				if got, err := prodays.CheckText(field, v, r); err != nil || got != v {
					t.Fatalf("mutation %d: %s %q accepted, but CheckText gives %q, %v", i, field, v, got, err)
				}
			}
			switch m.Type {
			case TypeCheckIn, TypeUndo:
				for field, id := range map[string]string{"activity_id": m.ActivityID, "person.id": m.Person.ID} {
					if err := checkCode(field, id); err != nil {
						t.Fatalf("mutation %d: accepted, but %v", i, err)
					}
				}
			case TypeTraineeRegister:
				tr := m.Trainee
				for field, v := range map[string]string{"last_name": tr.LastName, "first_name": tr.FirstName, "establishment_code": tr.EstablishmentCode,
					"program": tr.Program, "group": tr.Group, "gender": tr.Gender} {
					same(field, v, prodays.TraineeText[field])
				}
			case TypeTraineeUpdate:
				if err := checkCode("trainee_id", m.TraineeID); err != nil {
					t.Fatalf("mutation %d: %v", i, err)
				}
				if *m.BaseVersion < 1 || *m.BaseVersion > MaxInteger {
					t.Fatalf("mutation %d: base_version %d accepted", i, *m.BaseVersion)
				}
				for field, v := range m.Fields {
					same(field, v, prodays.TraineeText[field])
				}
			default:
				t.Fatalf("mutation %d of type %q accepted", i, m.Type)
			}
		}
	})
}
