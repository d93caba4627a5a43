package protocol

import (
	"errors"
	"strings"
	"testing"

	"prodays"
)

// TestDecodeStrictKeys: a mutation whose keys differ in case from the
// protocol's, or repeat, is invalid by itself; an envelope with such keys
// refuses the push.
func TestDecodeStrictKeys(t *testing.T) {
	const id = "0190a6b2-0000-7000-8000-000000000001"
	good := `{"id":"` + id + `","seq":1,"type":"attendance.check_in","recorded_at":"2026-03-23T09:00:00Z","activity_id":"A1","person":{"kind":"trainee","id":"T1"},"method":"qr"}`
	for _, tc := range []struct {
		name, mutation string
		wantID         string
	}{
		{"valid", good, id},
		{"ID", strings.Replace(good, `"id":`, `"ID":`, 1), ""},
		{"Type", strings.Replace(good, `"type":`, `"Type":`, 1), id},
		{"Activity_ID", strings.Replace(good, `"activity_id":`, `"Activity_ID":`, 1), id},
		{"person ID", strings.Replace(good, `{"kind":"trainee","id":"T1"}`, `{"kind":"trainee","ID":"T1"}`, 1), id},
		{"duplicate id", strings.Replace(good, `"seq":1,`, `"seq":1,"id":"0190a6b2-0000-7000-8000-000000000002",`, 1), ""},
		{"duplicate activity_id", strings.Replace(good, `"method":"qr"`, `"method":"qr","activity_id":"A2"`, 1), id},
		{"duplicate person id", strings.Replace(good, `{"kind":"trainee","id":"T1"}`, `{"kind":"trainee","id":"T1","id":"T2"}`, 1), id},
	} {
		body := `{"device_id":"d","client_time":"2026-03-23T10:00:00Z","mutations":[` + tc.mutation + `]}`
		req, err := DecodePush([]byte(body))
		if err != nil {
			t.Fatalf("%s: the push is refused (%v): a bad mutation must be refused alone", tc.name, err)
		}
		m := req.Mutations[0]
		if (tc.name == "valid") != (m.Invalid == nil) {
			t.Errorf("%s: Invalid = %+v", tc.name, m.Invalid)
		}
		if m.Invalid != nil && m.Invalid.Code != CodeInvalidMutation && !(tc.name == "Type" && m.Invalid.Code == CodeUnknownType) {
			t.Errorf("%s: code %s", tc.name, m.Invalid.Code)
		}
		if m.ID != tc.wantID {
			t.Errorf("%s: id %q, want %q", tc.name, m.ID, tc.wantID)
		}
	}
	for _, env := range []string{
		`{"device_id":"d","DEVICE_ID":"e","client_time":"2026-03-23T10:00:00Z","mutations":[]}`,
		`{"Device_Id":"d","client_time":"2026-03-23T10:00:00Z","mutations":[]}`,
		`{"device_id":"d","device_id":"e","client_time":"2026-03-23T10:00:00Z","mutations":[]}`,
		`{"device_id":"d","client_time":"2026-03-23T10:00:00Z","mutations":[],"mutations":[]}`,
	} {
		if _, err := DecodePush([]byte(env)); err == nil {
			t.Errorf("envelope %s: accepted", env)
		}
	}
}

// TestDecodePushMutationsRequired: the push body carries its batch
// (sync protocol, Push; OpenAPI PushRequest requires mutations); an empty
// batch is a batch.
func TestDecodePushMutationsRequired(t *testing.T) {
	for _, env := range []string{
		`{"device_id":"d","client_time":"2026-03-23T10:00:00Z"}`,
		`{"device_id":"d","client_time":"2026-03-23T10:00:00Z","mutations":null}`,
	} {
		_, err := DecodePush([]byte(env))
		var pe *prodays.Error
		if !errors.As(err, &pe) || pe.Code != prodays.EInvalid {
			t.Errorf("envelope %s: %v, want code invalid", env, err)
		}
	}
	req, err := DecodePush([]byte(`{"device_id":"d","client_time":"2026-03-23T10:00:00Z","mutations":[]}`))
	if err != nil || len(req.Mutations) != 0 {
		t.Errorf("empty batch: %v %+v", err, req)
	}
}

// TestDecodePushLoneSurrogate: a mutation holding a lone surrogate escape
// (JavaScript's JSON.stringify of half an emoji) is refused alone as
// invalid_mutation; the other mutations of the batch decode.
func TestDecodePushLoneSurrogate(t *testing.T) {
	body := `{"device_id":"d","client_time":"2026-03-23T10:00:00Z","mutations":[
		{"id":"0190d5a4-8f0c-7a11-9c3b-2f4e5d6a7b81","seq":1,"type":"attendance.check_in","recorded_at":"2026-03-23T10:00:00Z","activity_id":"A1","person":{"kind":"trainee","id":"T\ud83d"},"method":"search"},
		{"id":"0190d5a4-8f0c-7a11-9c3b-2f4e5d6a7b82","seq":2,"type":"attendance.check_in","recorded_at":"2026-03-23T10:00:00Z","activity_id":"A1","person":{"kind":"trainee","id":"T1"},"method":"search"}]}`
	req, err := DecodePush([]byte(body))
	if err != nil {
		t.Fatalf("DecodePush: %v, want the batch decoded", err)
	}
	if len(req.Mutations) != 2 {
		t.Fatalf("got %d mutations, want 2", len(req.Mutations))
	}
	if inv := req.Mutations[0].Invalid; inv == nil || inv.Code != CodeInvalidMutation {
		t.Errorf("mutation with a lone surrogate: Invalid = %+v, want %s", inv, CodeInvalidMutation)
	}
	if inv := req.Mutations[1].Invalid; inv != nil {
		t.Errorf("the other mutation: Invalid = %+v, want nil", inv)
	}
}
