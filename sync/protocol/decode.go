package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"prodays"
	"prodays/internal/strictjson"
)

// ECodeDeviceMismatch is prodays.EDeviceMismatch, the code of a push whose
// device_id is not the device of the caller's token.
const ECodeDeviceMismatch = prodays.EDeviceMismatch

// pushEnvelope is the push body with the mutations left raw, so that one
// bad mutation never blocks the others.
type pushEnvelope struct {
	DeviceID   string     `json:"device_id"`
	ClientTime *time.Time `json:"client_time"`
	AppVersion string     `json:"app_version"`
	OutboxSize int64      `json:"outbox_size"`
	// Mutations is nil when the member is absent or null (required).
	Mutations *[]json.RawMessage `json:"mutations"`
	// scanned are the mutations decoded by scanPush, not yet checked
	// (nil when the decoder read the envelope).
	scanned []Mutation
}

// TooLarge returns the 413 error of a push over the limits, with the limits
// as extension members (max_mutations, max_bytes).
func TooLarge(msg string) *prodays.Error {
	return &prodays.Error{Code: prodays.ETooLarge, Message: msg,
		Detail: map[string]any{"max_mutations": MaxMutations, "max_bytes": MaxBodyBytes}}
}

// DecodePush decodes and validates a push body (sync protocol, Push). The
// envelope is decoded strictly (no unknown fields, valid UTF-8, one JSON
// value, device_id, client_time and mutations present); an error there is an
// *prodays.Error with code invalid (or too_large over MaxMutations), and
// nothing of the batch applies. Each mutation is then decoded alone: a
// malformed or unknown one gets Invalid set and is refused by itself.
func DecodePush(body []byte) (*PushRequest, error) {
	if len(body) > MaxBodyBytes {
		return nil, TooLarge(fmt.Sprintf("The push body is over %d bytes: split the outbox.", MaxBodyBytes))
	}
	var env pushEnvelope
	if !scanPush(body, &env) {
		env = pushEnvelope{}
		if err := decodeEnvelope(body, &env); err != nil {
			return nil, err
		}
	}
	return env.request(MaxMutations)
}

// decodeEnvelope decodes a push body into env with the strict decoder,
// the mutations left raw: what scanPush does for a body of the common
// shape, for any body.
func decodeEnvelope(body []byte, env *pushEnvelope) error {
	if !utf8.Valid(body) {
		return prodays.Errorf(prodays.EInvalid, "The body is not valid UTF-8.")
	}
	// Duplicate keys are checked in the envelope only: a mutation with a
	// repeated key is refused by itself (DecodeMutation).
	if err := strictjson.UnmarshalTopLevel(body, env); err != nil {
		return prodays.Errorf(prodays.EInvalid, "Invalid push body: %s", err)
	}
	return nil
}

// request validates the envelope and decodes its mutations (at most max).
func (env *pushEnvelope) request(max int) (*PushRequest, error) {
	if env.DeviceID == "" {
		return nil, prodays.Errorf(prodays.EInvalid, "device_id is required.")
	}
	dev, err := prodays.CanonicalDeviceID(env.DeviceID) // as at login
	if err != nil {
		return nil, err
	}
	env.DeviceID = dev
	if env.ClientTime == nil {
		return nil, prodays.Errorf(prodays.EInvalid, "client_time is required.")
	}
	if env.OutboxSize < 0 || env.OutboxSize > MaxInteger {
		return nil, prodays.Errorf(prodays.EInvalid, "outbox_size must be between 0 and %d.", int64(MaxInteger))
	}
	if _, err := prodays.CheckText("app_version", env.AppVersion, appVersionRule); err != nil {
		return nil, err
	}
	if env.Mutations == nil {
		return nil, prodays.Errorf(prodays.EInvalid, "mutations is required (an empty array when there is nothing to send).")
	}
	raws := *env.Mutations
	if len(raws) > max {
		return nil, TooLarge(fmt.Sprintf("The push holds %d mutations, at most %d are allowed: split the outbox.", len(raws), max))
	}
	req := &PushRequest{DeviceID: env.DeviceID, ClientTime: *env.ClientTime, AppVersion: env.AppVersion,
		OutboxSize: int(env.OutboxSize), Mutations: make([]Mutation, len(raws))}
	for i, raw := range raws {
		if env.scanned != nil {
			req.Mutations[i] = checkMutation(raw, env.scanned[i])
		} else {
			req.Mutations[i] = DecodeMutation(raw)
		}
	}
	return req, nil
}

// header is the part of a mutation read before its type is known.
type header struct {
	ID   string `json:"id"`
	Seq  int64  `json:"seq"`
	Type string `json:"type"`
}

// DecodeMutation decodes one mutation. It never fails: a mutation that
// cannot be used has Invalid set (code invalid_mutation or unknown_type)
// and whatever of its id and seq could be read.
//
// A mutation is read once, strictly, in the common case (a check-in or an
// undo of the usual shape by decodeAttendance, any other by
// strictUnmarshal): when it decodes strictly as a whole, its header read
// leniently would hold the same id, seq and type, so the checks of the
// header run on the decoded mutation.
// Only a mutation that does not decode strictly is read again, header
// first (decodeRefused), for the answer it always had.
func DecodeMutation(raw json.RawMessage) Mutation {
	var full Mutation
	if !decodeAttendance(raw, &full) {
		full = Mutation{}
		if strictUnmarshal(raw, &full) != nil {
			return decodeRefused(raw)
		}
	}
	return checkMutation(raw, full)
}

// checkMutation is DecodeMutation of raw once decoded strictly into full:
// the checks of its header, then of its type.
func checkMutation(raw json.RawMessage, full Mutation) Mutation {
	m, ok := checkHeader(raw, header{ID: full.ID, Seq: full.Seq, Type: full.Type})
	if !ok {
		return m
	}
	full.ID, full.Raw = m.ID, raw
	if err := full.validate(); err != nil {
		full.Invalid = &Rejection{Code: CodeInvalidMutation, Message: err.Error()}
	}
	return full
}

// decodeRefused is DecodeMutation of a mutation that does not decode
// strictly: its header is read leniently (other keys are the type's,
// repeated keys are refused) but with exact keys ("ID" is not id), then
// checked, then the strict decoding's error refuses it.
func decodeRefused(raw json.RawMessage) Mutation {
	var h header
	if err := jsonv2.Unmarshal(raw, &h, jsontext.AllowDuplicateNames(true)); err != nil {
		m := Mutation{Raw: raw}
		_ = jsonv2.Unmarshal(raw, &struct {
			ID *string `json:"id"`
		}{&m.ID}, jsontext.AllowDuplicateNames(true))
		return m.refused(CodeInvalidMutation, "The mutation is not a JSON object with id, seq and type.")
	}
	m, ok := checkHeader(raw, h)
	if !ok {
		return m
	}
	var full Mutation
	err := strictUnmarshal(raw, &full)
	if err == nil {
		return DecodeMutation(raw) // not reached: the caller's decoding failed
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) && errors.Is(err, jsontext.ErrDuplicateName) && se.JSONPointer == "/id" {
		m.ID = "" // which one? neither: quarantined under a derived key
	}
	return m.refused(CodeInvalidMutation, err.Error())
}

// checkHeader returns the mutation of raw with header h (id in lower
// case), refused with Invalid set and false when h's id is not a UUID, its
// seq out of range or its type unknown.
func checkHeader(raw json.RawMessage, h header) (Mutation, bool) {
	m := Mutation{Raw: raw, ID: h.ID, Seq: h.Seq, Type: h.Type}
	if h.Seq > MaxInteger {
		m.Seq = 0 // not a seq the device can have used: no gap, no max_seq
	}
	if !IsUUID(h.ID) {
		return m.refused(CodeInvalidMutation, "id must be a UUID."), false
	}
	m.ID = lowerUUID(h.ID)
	if h.Seq < 1 || h.Seq > MaxInteger {
		return m.refused(CodeInvalidMutation, fmt.Sprintf("seq must be an integer from 1 to %d.", int64(MaxInteger))), false
	}
	switch h.Type {
	case TypeCheckIn, TypeUndo, TypeTraineeRegister, TypeTraineeUpdate:
		return m, true
	}
	return m.refused(CodeUnknownType, fmt.Sprintf("This server does not know mutations of type %q.", strictjson.Truncate(h.Type, 60))), false
}

// refused returns m with Invalid set to code and message.
func (m Mutation) refused(code, message string) Mutation {
	m.Invalid = &Rejection{Code: code, Message: message}
	return m
}

func (m *Mutation) validate() error {
	if m.RecordedAt.IsZero() {
		return errors.New("recorded_at is required (RFC 3339 with offset).")
	}
	if !storable(m.RecordedAt) {
		return errors.New("recorded_at must be within years 0001 to 9999 (UTC).")
	}
	switch m.Type {
	case TypeCheckIn, TypeUndo:
		if m.ActivityID == "" {
			return errors.New("activity_id is required.")
		}
		if err := checkCode("activity_id", m.ActivityID); err != nil {
			return err
		}
		if m.Person == nil || m.Person.ID == "" {
			return errors.New("person {kind, id} is required.")
		}
		if err := checkCode("person.id", m.Person.ID); err != nil {
			return err
		}
		if m.Person.Kind != prodays.PersonTrainee && m.Person.Kind != prodays.PersonSpeaker {
			return errors.New("person.kind must be trainee or speaker.")
		}
		if IsUUID(m.Person.ID) {
			m.Person.ID = lowerUUID(m.Person.ID)
		}
		if m.Trainee != nil || m.TraineeID != "" || m.Fields != nil || m.BaseVersion != nil {
			return errors.New("fields of another mutation type are present.")
		}
		if m.Type == TypeCheckIn {
			switch m.Method {
			case MethodQR, MethodSearch, MethodManual:
			default:
				return errors.New("method must be qr, search or manual.")
			}
			if m.Undoes != nil {
				return errors.New("undoes belongs to attendance.undo.")
			}
		} else {
			if len(m.Undoes) > MaxMutations {
				return errors.New("undoes names too many check-ins.")
			}
			for i, id := range m.Undoes {
				if !IsUUID(id) {
					return fmt.Errorf("undoes[%d] is not a UUID.", i)
				}
				m.Undoes[i] = lowerUUID(id)
			}
		}
	case TypeTraineeRegister:
		t := m.Trainee
		if t == nil {
			return errors.New("trainee is required.")
		}
		if m.ActivityID != "" || m.Person != nil || m.Method != "" || m.Undoes != nil || m.TraineeID != "" || m.Fields != nil || m.BaseVersion != nil {
			return errors.New("fields of another mutation type are present.")
		}
		if !IsUUID(t.ID) {
			return errors.New("trainee.id of a walk-in must be a UUID made on the phone.")
		}
		t.ID = lowerUUID(t.ID)
		for _, f := range []struct {
			name string
			v    *string
		}{{"last_name", &t.LastName}, {"first_name", &t.FirstName}, {"establishment_code", &t.EstablishmentCode},
			{"program", &t.Program}, {"group", &t.Group}, {"gender", &t.Gender}} {
			if f.name == "establishment_code" {
				if err := checkCode("trainee.establishment_code", *f.v); err != nil {
					return err
				}
			}
			v, err := prodays.CheckText("trainee."+f.name, *f.v, prodays.TraineeText[f.name])
			if err != nil {
				return errors.New(prodays.ErrorMessage(err))
			}
			*f.v = v
		}
		if t.LastName == "" || t.FirstName == "" || t.EstablishmentCode == "" {
			return errors.New("trainee.last_name, first_name and establishment_code are required.")
		}
		if t.Gender != "" && t.Gender != "F" && t.Gender != "M" {
			return errors.New("trainee.gender must be F, M or empty.")
		}
	case TypeTraineeUpdate:
		if m.ActivityID != "" || m.Person != nil || m.Method != "" || m.Undoes != nil || m.Trainee != nil {
			return errors.New("fields of another mutation type are present.")
		}
		if m.TraineeID == "" {
			return errors.New("trainee_id is required.")
		}
		if err := checkCode("trainee_id", m.TraineeID); err != nil {
			return err
		}
		if IsUUID(m.TraineeID) {
			m.TraineeID = lowerUUID(m.TraineeID)
		}
		if m.BaseVersion == nil {
			return errors.New("base_version is required (the trainee's version the correction was made from).")
		}
		if *m.BaseVersion < 1 || *m.BaseVersion > MaxInteger {
			return fmt.Errorf("base_version must be an integer from 1 to %d.", int64(MaxInteger))
		}
		if len(m.Fields) == 0 {
			return errors.New("fields must name at least one field.")
		}
		for k, v := range m.Fields {
			if !UpdatableField(k) {
				return fmt.Errorf("fields.%s cannot be updated.", strictjson.Truncate(k, 40))
			}
			if k == "establishment_code" {
				if err := checkCode("fields.establishment_code", v); err != nil {
					return err
				}
			}
			v, err := prodays.CheckText("fields."+k, v, prodays.TraineeText[k])
			if err != nil {
				return errors.New(prodays.ErrorMessage(err))
			}
			if (k == "last_name" || k == "first_name" || k == "establishment_code") && v == "" {
				return fmt.Errorf("fields.%s must not be empty.", k)
			}
			if k == "gender" && v != "" && v != "F" && v != "M" {
				return errors.New("fields.gender must be F, M or empty.")
			}
			m.Fields[k] = v
		}
	}
	return nil
}

// TraineeUpdatableFields are the trainee fields a trainee.update may set,
// under their import-file names.
var TraineeUpdatableFields = []string{"last_name", "first_name", "establishment_code", "program", "group", "gender"}

// UpdatableField reports whether trainee.update may set field.
func UpdatableField(field string) bool {
	for _, f := range TraineeUpdatableFields {
		if f == field {
			return true
		}
	}
	return false
}

// appVersionRule bounds the app_version of a push.
var appVersionRule = prodays.TextRule{Max: 50}

// checkCode checks an id the phone names (activity_id, person.id,
// trainee_id, establishment_code) with prodays.CheckID (one line, no
// control character, no white space around it, at most 100 characters).
// The id is compared as sent, never cleaned: it must match the one stored.
func checkCode(field, id string) error {
	if plainID(id) {
		return nil // what CheckID accepts, without its Unicode work
	}
	if err := prodays.CheckID(field, id); err != nil {
		return errors.New(prodays.ErrorMessage(err))
	}
	return nil
}

// plainID reports whether id is 1 to 100 bytes of printable ASCII (U+0020
// to U+007E) with no space at either end: an id prodays.CheckID accepts
// (one line, no control or format character, nothing to trim, NFC as
// ASCII always is), as the phones' ids almost always are.
func plainID(id string) bool {
	if len(id) == 0 || len(id) > prodays.TextCode.Max || id[0] == ' ' || id[len(id)-1] == ' ' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// strictUnmarshal decodes one JSON value strictly (strictjson.Unmarshal:
// no unknown fields, keys in their exact case, no repeated key).
func strictUnmarshal(b []byte, v any) error {
	return strictjson.Unmarshal(b, v)
}

// IsUUID reports whether s is a UUID in its canonical 36-character form
// (any version): hexadecimal digits in either case, dashes at 8, 13, 18
// and 23, as uuid.Parse reads a string of 36 bytes.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// lowerUUID returns UUID s (IsUUID) in lower case: s itself, without a
// copy, when it has no upper-case digit (as strings.ToLower would).
func lowerUUID(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'F' {
			return strings.ToLower(s)
		}
	}
	return s
}
