package protocol

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"prodays"
)

const boundsID = "0190a6b2-0000-7000-8000-000000000001"

// js is s as a JSON string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func pushOf(mutations ...string) string {
	return `{"device_id":"d","client_time":"2026-03-23T10:00:00Z","outbox_size":1,"mutations":[` + strings.Join(mutations, ",") + `]}`
}

func checkInSeq(seq string) string {
	return `{"id":"` + boundsID + `","seq":` + seq + `,"type":"attendance.check_in","recorded_at":"2026-03-23T09:00:00Z","activity_id":"A1","person":{"kind":"trainee","id":"T1"},"method":"qr"}`
}

// TestDecodeSeqBounds: seq is 1 to MaxInteger; outside, the mutation is
// invalid by itself, and a seq above the bound is not kept (Seq 0), so
// that it moves neither the device's max_seq nor its gaps.
func TestDecodeSeqBounds(t *testing.T) {
	for _, tc := range []struct {
		seq     string
		ok      bool
		wantSeq int64
	}{
		{"1", true, 1},
		{"9007199254740991", true, MaxInteger},
		{"9007199254740992", false, 0},
		{"9223372036854775807", false, 0},
		{"9223372036854775808", false, 0},
		{"1e300", false, 0},
		{"0", false, 0},
		{"-1", false, -1},
		{"-9223372036854775808", false, -9223372036854775808},
		{"1.5", false, 0},
		{`"1"`, false, 0},
	} {
		req, err := DecodePush([]byte(pushOf(checkInSeq(tc.seq))))
		if err != nil {
			t.Fatalf("seq %s: push refused: %v", tc.seq, err)
		}
		m := req.Mutations[0]
		if (m.Invalid == nil) != tc.ok || m.Seq != tc.wantSeq {
			t.Errorf("seq %s: Invalid %+v Seq %d, want ok=%v Seq %d", tc.seq, m.Invalid, m.Seq, tc.ok, tc.wantSeq)
		}
		if m.Invalid != nil && m.Invalid.Code != CodeInvalidMutation {
			t.Errorf("seq %s: code %s", tc.seq, m.Invalid.Code)
		}
	}
}

// TestDecodeIntegerBounds: outbox_size is 0 to MaxInteger (outside: the
// push is invalid), base_version 1 to MaxInteger (outside: the mutation).
func TestDecodeIntegerBounds(t *testing.T) {
	for _, tc := range []struct {
		outbox string
		ok     bool
	}{{"0", true}, {"9007199254740991", true}, {"9007199254740992", false}, {"9223372036854775807", false}, {"-1", false}} {
		body := strings.Replace(pushOf(), `"outbox_size":1`, `"outbox_size":`+tc.outbox, 1)
		_, err := DecodePush([]byte(body))
		if (err == nil) != tc.ok || (err != nil && prodays.ErrorCode(err) != prodays.EInvalid) {
			t.Errorf("outbox_size %s: %v, want ok=%v", tc.outbox, err, tc.ok)
		}
	}
	for _, tc := range []struct {
		base string
		ok   bool
	}{{"1", true}, {"9007199254740991", true}, {"9007199254740992", false}, {"9223372036854775807", false}, {"0", false}, {"-5", false}} {
		m := `{"id":"` + boundsID + `","seq":1,"type":"trainee.update","recorded_at":"2026-03-23T09:00:00Z","trainee_id":"T1","base_version":` + tc.base + `,"fields":{"group":"G2"}}`
		req, err := DecodePush([]byte(pushOf(m)))
		if err != nil {
			t.Fatal(err)
		}
		if inv := req.Mutations[0].Invalid; (inv == nil) != tc.ok || (inv != nil && !strings.Contains(inv.Message, "base_version")) {
			t.Errorf("base_version %s: %+v, want ok=%v", tc.base, inv, tc.ok)
		}
	}
}

// TestDecodeTextFields: the text of trainee.register and trainee.update,
// and the ids of check-ins, go through prodays.CheckText; a refusal is
// that mutation's alone and names the field.
func TestDecodeTextFields(t *testing.T) {
	register := func(last, program string) string {
		return fmt.Sprintf(`{"id":"%s","seq":1,"type":"trainee.register","recorded_at":"2026-03-23T09:00:00Z","trainee":{"id":"0190a6b2-0000-7000-8000-0000000000ff","last_name":%s,"first_name":"Noura","establishment_code":"E1","program":%s,"group":"","gender":""}}`, boundsID, js(last), js(program))
	}
	update := func(field, v string) string {
		return fmt.Sprintf(`{"id":"%s","seq":1,"type":"trainee.update","recorded_at":"2026-03-23T09:00:00Z","trainee_id":"T1","base_version":1,"fields":{%s:%s}}`, boundsID, js(field), js(v))
	}
	checkIn := func(activity, person string) string {
		return fmt.Sprintf(`{"id":"%s","seq":1,"type":"attendance.check_in","recorded_at":"2026-03-23T09:00:00Z","activity_id":%s,"person":{"kind":"trainee","id":%s},"method":"qr"}`, boundsID, js(activity), js(person))
	}
	for _, tc := range []struct {
		name, mutation, field string // field "" when accepted
	}{
		{"300-rune Arabic name", register(strings.Repeat("ب", 300), "Dev"), ""},
		{"NUL in last_name", register("a\x00b", "Dev"), "trainee.last_name"},
		{"ESC in program", register("Ok", "Dev\x1b"), "trainee.program"},
		{"BEL as escape", strings.Replace(register("Ok", "Dev"), `"Ok"`, `"O\u0007k"`, 1), "trainee.last_name"},
		{"line feed in a name", register("A\nB", "Dev"), ""},
		{"carriage return in a name", register("A\rB", "Dev"), "trainee.last_name"},
		{"line feed in establishment_code", strings.Replace(register("Ok", "Dev"), `"E1"`, `"E\n1"`, 1), "trainee.establishment_code"},
		{"301-rune name", register(strings.Repeat("é", 301), "Dev"), "trainee.last_name"},
		{"update group NUL", update("group", "G\x00"), "fields.group"},
		{"update first_name C1", update("first_name", "A\u0090"), "fields.first_name"},
		{"update fine", update("first_name", "Aïcha"), ""},
		{"activity_id ESC", checkIn("A1\x1b", "T1"), "activity_id"},
		{"person.id NUL", checkIn("A1", "T\x00"), "person.id"},
		{"activity_id 101 chars", checkIn(strings.Repeat("A", 101), "T1"), "activity_id"},
	} {
		req, err := DecodePush([]byte(pushOf(tc.mutation)))
		if err != nil {
			t.Fatalf("%s: push refused: %v", tc.name, err)
		}
		m := req.Mutations[0]
		switch {
		case tc.field == "" && m.Invalid != nil:
			t.Errorf("%s: refused: %+v", tc.name, m.Invalid)
		case tc.field != "" && (m.Invalid == nil || m.Invalid.Code != CodeInvalidMutation || !strings.HasPrefix(m.Invalid.Message, tc.field+": ")):
			t.Errorf("%s: %+v, want invalid_mutation naming %s", tc.name, m.Invalid, tc.field)
		}
	}
	for _, env := range []string{
		`{"device_id":"d\u001b","client_time":"2026-03-23T10:00:00Z","mutations":[]}`,
		`{"device_id":"d","app_version":"1.0\u0000","client_time":"2026-03-23T10:00:00Z","mutations":[]}`,
	} {
		if _, err := DecodePush([]byte(env)); prodays.ErrorCode(err) != prodays.EInvalid {
			t.Errorf("%s: %v, want invalid", env, err)
		}
	}
}

// TestSeqGaps: the ranges never received, both ends included, bounded by
// 1 and maxSeq, without overflow at the ends of int64.
func TestSeqGaps(t *testing.T) {
	const top = 1<<63 - 1
	for _, tc := range []struct {
		seqs   []int64
		maxSeq int64
		want   string
	}{
		{nil, 0, "[]"},
		{nil, 3, "[[1 3]]"},
		{[]int64{1, 2, 3}, 3, "[]"},
		{[]int64{2, 5}, 7, "[[1 1] [3 4] [6 7]]"},
		{[]int64{1, 2, MaxInteger}, MaxInteger, "[[3 9007199254740990]]"},
		{[]int64{1, top}, top, "[[2 9223372036854775806]]"},
		{[]int64{top}, top, "[[1 9223372036854775806]]"},
		{[]int64{1, 3, top}, 3, "[[2 2]]"},
		{[]int64{-5, 0, 1}, 2, "[[2 2]]"},
		{[]int64{1}, -7, "[]"},
	} {
		if got := fmt.Sprint(SeqGaps(tc.seqs, tc.maxSeq)); got != tc.want {
			t.Errorf("SeqGaps(%v, %d) = %s, want %s", tc.seqs, tc.maxSeq, got, tc.want)
		}
	}
}
