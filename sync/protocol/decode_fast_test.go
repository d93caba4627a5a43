package protocol

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"prodays"
)

// checkIn is a check-in of the usual shape, which the fast paths read.
const checkIn = `{"id":"0190A6B2-0000-7000-8000-000000000001","seq":1,"type":"attendance.check_in","recorded_at":"2026-03-23T09:00:00.123+01:00","activity_id":"A1","person":{"kind":"trainee","id":"T1"},"method":"qr"}`

// FuzzDecodeAttendance: whatever decodeAttendance accepts, strictUnmarshal
// accepts and decodes into the same Mutation.
func FuzzDecodeAttendance(f *testing.F) {
	for _, s := range []string{checkIn, `{}`, `{"person":{}}`, `{"person":null}`, `{"seq":-1}`, `{"seq":1e3}`, `{"seq":1.0}`,
		`{"seq":99999999999999999999}`, `{"seq":0}`, `{"seq":01}`, `{"seq":1,}`, `{"seq":1 , "id" : "x" }`, `{"id":"a\u0062"}`,
		`{"i\u0064":"x"}`, `{"id":"x","id":"y"}`, `{"person":{"id":"a","id":"b"}}`, `{"person":{"kind":"a",}}`,
		`{"recorded_at":"2026-13-01T00:00:00Z"}`, `{"recorded_at":"2026-03-01 00:00:00Z"}`, `{"recorded_at":"2026-03-01T24:00:00Z"}`,
		`{"recorded_at":"2026-03-01t00:00:00z"}`, `{"recorded_at":"2026-03-01T00:00:00+24:00"}`, `{"recorded_at":"2026-03-01T00:00:00,5Z"}`,
		`{"recorded_at":"2026-03-01T0:00:00Z"}`, `{"recorded_at":null}`, `{"recorded_at":5}`, `{} `, `{}x`, `{} {}`, ` {"id":"x"}`,
		`{"method":"qr","undoes":[]}`, `{"id":"é"}`, "{\"id\":\"\x7f\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, strict Mutation
		ok := decodeAttendance(b, &fast)
		err := strictUnmarshal(b, &strict)
		if ok && err != nil {
			t.Fatalf("%q: read by decodeAttendance, refused by strictUnmarshal: %v", b, err)
		}
		if ok && !reflect.DeepEqual(fast, strict) {
			t.Fatalf("%q:\n%+v\n%+v", b, fast, strict)
		}
	})
}

// FuzzScanPush: DecodePush answers as decodeEnvelope and DecodeMutation
// do, whether scanPush reads the body or not.
func FuzzScanPush(f *testing.F) {
	for _, s := range []string{
		`{"device_id":"dev-1","client_time":"2026-03-23T10:00:00Z","app_version":"1.0","outbox_size":3,"mutations":[` + checkIn + `, ` + checkIn + `]}`,
		`{"device_id":"0190A6B2-0000-7000-8000-000000000001","client_time":"2026-03-23T10:00:00Z","mutations":[]}`,
		`{"device_id":"d","client_time":"2026-03-23T10:00:00Z","mutations":[{"id":"x","seq":-1,"type":"nope"},null,7]}`,
		` { "mutations" : [ ` + checkIn + ` ] , "device_id" : "d" , "client_time" : "2026-03-23T10:00:00+02:00" } `,
		`{"device_id":"d","device_id":"d","client_time":"2026-03-23T10:00:00Z","mutations":[]}`,
		`{"device_id":"d","client_time":"2026-03-23T10:00:00Z","outbox_size":-1,"mutations":[]}`,
		`{"device_id":"d","client_time":"2026-03-23T10:00:00Z","outbox_size":99999999999999999,"mutations":[]}`,
		`{"device_id":"d","client_time":null,"mutations":[]}`, `{"device_id":"","client_time":"2026-03-23T10:00:00Z","mutations":[]}`,
		`{"device_id":" d","client_time":"2026-03-23T10:00:00Z","mutations":[]}`, `{}`, `[]`, `null`, `{"mutations":[]} x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodePush(b)
		want, werr := decodeGeneric(b)
		if (err == nil) != (werr == nil) || err != nil && (err.Error() != werr.Error() || prodays.ErrorCode(err) != prodays.ErrorCode(werr)) {
			t.Fatalf("%q: %v, want %v", b, err, werr)
		}
		// validate walks trainee.update's fields, a map: its message may
		// name any of the bad ones.
		for i := 0; i < 50 && err == nil && !reflect.DeepEqual(got, want); i++ {
			want, _ = decodeGeneric(b)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n%+v\n%+v", b, got, want)
		}
	})
}

// decodeGeneric is DecodePush without scanPush.
func decodeGeneric(body []byte) (*PushRequest, error) {
	if len(body) > MaxBodyBytes {
		return DecodePush(body) // refused before scanPush
	}
	var env pushEnvelope
	if err := decodeEnvelope(body, &env); err != nil {
		return nil, err
	}
	return env.request(MaxMutations)
}

// FuzzIsUUID: IsUUID is uuid.Parse of a 36-byte string.
func FuzzIsUUID(f *testing.F) {
	f.Add("0190a6b2-0000-7000-8000-00000000000F")
	f.Add("0190a6b2-0000-7000-8000-00000000000g")
	f.Add("0190a6b2-0000-7000-8000+00000000000F")
	f.Fuzz(func(t *testing.T, s string) {
		_, err := uuid.Parse(s)
		if IsUUID(s) != (len(s) == 36 && err == nil) {
			t.Fatalf("%q", s)
		}
		if IsUUID(s) && lowerUUID(s) != strings.ToLower(s) {
			t.Fatalf("%q: lowerUUID %q", s, lowerUUID(s))
		}
	})
}

// FuzzPlainID: an id plainID accepts, prodays.CheckID accepts.
func FuzzPlainID(f *testing.F) {
	for _, s := range []string{"", "A1", " A", "A ", "a b", "x\x7f", "é", strings.Repeat("a", 100), strings.Repeat("a", 101)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if plainID(s) && prodays.CheckID("f", s) != nil {
			t.Fatalf("%q: plainID, but %v", s, prodays.CheckID("f", s))
		}
	})
}
