package protocol

import (
	"encoding/json"
	"strconv"
	"time"

	"prodays"
)

// decodeAttendance decodes raw into m (zero) when raw is the common shape
// of a check-in or undo: one object whose keys are among id, seq, type,
// recorded_at, activity_id, person {kind, id} and method, each once; its
// strings printable ASCII without escapes, seq a positive integer literal,
// recorded_at RFC 3339, nothing null. Such a value is valid JSON that
// strictUnmarshal decodes into the same Mutation. Anything else returns
// false, m in any state: the caller decodes raw with strictUnmarshal, for
// the same result or its error. It spares the generic decoder's tokens and
// reflection on the mutations of nearly every push.
func decodeAttendance(raw []byte, m *Mutation) bool {
	s := scanner{b: raw}
	if !s.mutation(m) {
		return false
	}
	s.space()
	return s.i == len(s.b) // one value, nothing after it
}

// scanPush decodes body into env (zero) when it is a push of the common
// shape: one object whose keys are among device_id, client_time,
// app_version, outbox_size and mutations, each once; device_id and
// app_version printable ASCII without escapes, client_time RFC 3339,
// outbox_size a non-negative integer literal, mutations an array of
// mutations decodeAttendance reads, nothing null. Such a body is valid
// JSON that strictjson.UnmarshalTopLevel decodes into the same envelope;
// env.scanned then holds each mutation as strictUnmarshal decodes it, and
// each raw mutation is a part of body (not a copy). Anything else returns
// false, env in any state: the caller decodes body as before.
func scanPush(body []byte, env *pushEnvelope) bool {
	s := scanner{b: body}
	if !s.byte('{') {
		return false
	}
	var seen uint8
	for first := true; ; first = false {
		if first && s.byte('}') {
			break
		}
		name, ok := s.name()
		if !ok {
			return false
		}
		var bit uint8
		switch string(name) { // no copy
		case "device_id":
			bit, ok = 1, s.text(&env.DeviceID)
		case "client_time":
			env.ClientTime = new(time.Time)
			bit, ok = 2, s.time(env.ClientTime)
		case "app_version":
			bit, ok = 4, s.text(&env.AppVersion)
		case "outbox_size":
			bit, ok = 8, s.integer(&env.OutboxSize)
		case "mutations":
			bit, ok = 16, s.mutations(env)
		}
		if !ok || bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		if s.byte('}') {
			break
		}
		if !s.byte(',') {
			return false
		}
	}
	s.space()
	return s.i == len(s.b) // one value, nothing after it
}

// mutations reads an array of mutations into env.Mutations (each a part of
// b) and env.scanned.
func (s *scanner) mutations(env *pushEnvelope) bool {
	if !s.byte('[') {
		return false
	}
	raws := []json.RawMessage{} // present, even when empty
	for first := true; ; first = false {
		if first && s.byte(']') {
			break
		}
		s.space()
		start := s.i
		var m Mutation
		if !s.mutation(&m) {
			return false
		}
		raws = append(raws, s.b[start:s.i:s.i])
		env.scanned = append(env.scanned, m)
		if s.byte(']') {
			break
		}
		if !s.byte(',') {
			return false
		}
	}
	env.Mutations = &raws
	return true
}

// mutation reads a check-in or undo object (decodeAttendance) into m.
func (s *scanner) mutation(m *Mutation) bool {
	if !s.byte('{') {
		return false
	}
	var seen uint8
	for first := true; ; first = false {
		if first && s.byte('}') {
			return true
		}
		name, ok := s.name()
		if !ok {
			return false
		}
		var bit uint8
		switch string(name) { // no copy
		case "id":
			bit, ok = 1, s.text(&m.ID)
		case "seq":
			bit, ok = 2, s.integer(&m.Seq)
		case "type":
			bit, ok = 4, s.word(&m.Type)
		case "recorded_at":
			bit, ok = 8, s.time(&m.RecordedAt)
		case "activity_id":
			bit, ok = 16, s.text(&m.ActivityID)
		case "person":
			m.Person = &Person{}
			bit, ok = 32, s.person(m.Person)
		case "method":
			bit, ok = 64, s.word(&m.Method)
		}
		if !ok || bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		if s.byte('}') {
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

// scanner reads the subset of JSON decodeAttendance accepts from b[i:].
type scanner struct {
	b []byte
	i int
}

// space skips JSON white space.
func (s *scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// byte skips white space and c, and reports whether c was there (nothing
// is skipped when it was not).
func (s *scanner) byte(c byte) bool {
	j := s.i
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	s.i = j
	return false
}

// plain reads a string of printable ASCII without escapes and returns its
// text (a part of b).
func (s *scanner) plain() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	for j := s.i; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			v := s.b[s.i:j]
			s.i = j + 1
			return v, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, false
		}
	}
	return nil, false
}

// name reads an object's key and the colon after it.
func (s *scanner) name() ([]byte, bool) {
	v, ok := s.plain()
	return v, ok && s.byte(':')
}

// text reads a plain string into t.
func (s *scanner) text(t *string) bool {
	v, ok := s.plain()
	*t = string(v)
	return ok
}

// word is text that gives the constant for the words a check-in repeats
// (its type, person kind and method), without a copy.
func (s *scanner) word(t *string) bool {
	v, ok := s.plain()
	for _, w := range [...]string{TypeCheckIn, TypeUndo, prodays.PersonTrainee, prodays.PersonSpeaker, MethodQR, MethodSearch, MethodManual} {
		if string(v) == w {
			*t = w
			return ok
		}
	}
	*t = string(v)
	return ok
}

// integer reads an integer literal of digits only (no sign, fraction or
// exponent; no leading zero, as JSON wants) that fits an int64.
func (s *scanner) integer(n *int64) bool {
	s.space()
	j := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	v := s.b[j:s.i]
	if len(v) == 0 || (v[0] == '0' && len(v) > 1) {
		return false
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return false
	}
	x, err := strconv.ParseInt(string(v), 10, 64)
	*n = x
	return err == nil
}

// time reads a plain string as the generic decoder reads a time.Time
// (time.Time.UnmarshalText, strict RFC 3339), refusing the few strings it
// checks further (a one-digit hour, a comma before the fraction, an offset
// out of range) rather than repeating its errors.
func (s *scanner) time(t *time.Time) bool {
	v, ok := s.plain()
	if !ok || t.UnmarshalText(v) != nil || len(v) < len("2006-01-02T15:04:05Z") {
		return false
	}
	if v[len("2006-01-02T")+1] == ':' || v[len("2006-01-02T15:04:05")] == ',' {
		return false
	}
	if v[len(v)-1] == 'Z' {
		return true
	}
	tz := v[len(v)-len("+07:00"):]
	return (tz[0] == '+' || tz[0] == '-') && tz[3] == ':' && digits2(tz[1:3]) < 24 && digits2(tz[4:6]) < 60
}

// digits2 is the value of two decimal digits, 99 when they are not.
func digits2(b []byte) int {
	if b[0] < '0' || b[0] > '9' || b[1] < '0' || b[1] > '9' {
		return 99
	}
	return int(b[0]-'0')*10 + int(b[1]-'0')
}

// person reads a person object {kind, id}, each key at most once.
func (s *scanner) person(p *Person) bool {
	if !s.byte('{') {
		return false
	}
	var kind, id bool
	for first := true; ; first = false {
		if first && s.byte('}') {
			return true
		}
		name, ok := s.name()
		switch {
		case !ok:
			return false
		case string(name) == "kind" && !kind:
			kind, ok = true, s.word(&p.Kind)
		case string(name) == "id" && !id:
			id, ok = true, s.text(&p.ID)
		default:
			return false
		}
		if !ok {
			return false
		}
		if s.byte('}') {
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}
