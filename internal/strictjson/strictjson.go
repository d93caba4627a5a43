// Package strictjson decodes untrusted JSON strictly, with
// github.com/go-json-experiment/json (the future encoding/json/v2):
// object keys match struct field names exactly (encoding/json matches
// "ID" to a field tagged "id"), a key may appear once per object
// (encoding/json keeps the last of duplicates), no unknown fields, valid
// UTF-8, exactly one JSON value, at most 10,000 levels of nesting.
//
// Errors are *Error with a message fit to show to the client (a sentence
// fragment in lower case, ending with a period).
package strictjson

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Error is a JSON body refused by Unmarshal; Message says why.
type Error struct {
	Message string
	Err     error // the decoder's error (nil for checks of this package)
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// ErrDuplicateName is wrapped by the Error of a key repeated in an object.
var ErrDuplicateName = jsontext.ErrDuplicateName

// ErrUnknownName is wrapped by the Error of a key that names no field.
var ErrUnknownName = json.ErrUnknownName

var strict = json.JoinOptions(json.RejectUnknownMembers(true), jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(false))

// Unmarshal decodes b into v (a pointer) strictly: see the package doc.
func Unmarshal(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return &Error{Message: "empty."}
	}
	if !utf8.Valid(b) {
		return &Error{Message: "not valid UTF-8."}
	}
	if err := json.Unmarshal(b, v, strict); err != nil {
		return wrap(err)
	}
	return nil
}

// UnmarshalTopLevel is Unmarshal that checks duplicate keys in the
// top-level object only, so that nested values decoded later on their
// own (json.RawMessage fields, such as the mutations of a push) are judged
// one by one rather than failing the whole document.
func UnmarshalTopLevel(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return &Error{Message: "empty."}
	}
	if !utf8.Valid(b) {
		return &Error{Message: "not valid UTF-8."}
	}
	// A lone surrogate escape ("\ud83d": what JavaScript's JSON.stringify
	// writes for half an emoji) inside a nested value is left to that
	// value's own decoding, which refuses it: one bad mutation never
	// fails its whole batch. In a top-level string it becomes U+FFFD.
	if err := json.Unmarshal(b, v, strict, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)); err != nil {
		return wrap(err)
	}
	// The document is valid JSON: read its top-level keys.
	if done, err := topLevelDuplicate(b); done {
		return err
	}
	return topLevelDuplicateDecoded(b)
}

// topLevelDuplicate returns true and the error of the first top-level key
// of b (valid JSON, valid UTF-8) that repeats an earlier one, nil when
// none does; or false when a top-level key holds an escape or there are
// more than maxScanKeys keys (left to topLevelDuplicateDecoded, which
// decodes them). It scans the bytes without tokenizing the values: a
// push's mutations are read again, one by one, by the caller.
func topLevelDuplicate(b []byte) (bool, error) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return true, nil // not an object: v's type said so already
	}
	var seen []string // a few keys: a slice beats a map
	depth, key := 0, false
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			end := stringEnd(b, i)
			if depth == 1 && key {
				raw := b[i+1 : end]
				if bytes.IndexByte(raw, '\\') >= 0 || len(seen) == maxScanKeys {
					return false, nil
				}
				for _, k := range seen {
					if k == string(raw) {
						return true, &Error{Message: fmt.Sprintf("duplicate key %q.", Truncate(k, 60)), Err: ErrDuplicateName}
					}
				}
				seen = append(seen, string(raw))
				key = false
			}
			i = end
		case '{', '[':
			depth++
			key = depth == 1
		case '}', ']':
			depth--
			if depth == 0 {
				return true, nil
			}
		case ',':
			key = depth == 1
		}
	}
	return true, nil
}

// maxScanKeys bounds the keys topLevelDuplicate compares one with another.
const maxScanKeys = 32

// stringEnd returns the index of the quote that closes the string literal
// of valid JSON b opened at i.
func stringEnd(b []byte, i int) int {
	for j := i + 1; ; j++ {
		switch b[j] {
		case '"':
			return j
		case '\\':
			j++ // the escaped byte: \" does not close the string
		}
	}
}

// skipSpace returns the index of the first byte of b from i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// topLevelDuplicateDecoded is topLevelDuplicate that decodes each key, as
// the decoder reads it (escapes resolved, a lone surrogate as U+FFFD).
func topLevelDuplicateDecoded(b []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	tok, err := dec.ReadToken()
	if err != nil || tok.Kind() != '{' {
		return nil // not an object: v's type said so already
	}
	seen := map[string]bool{}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return wrap(err)
		}
		if seen[name.String()] {
			return &Error{Message: fmt.Sprintf("duplicate key %q.", Truncate(name.String(), 60)), Err: ErrDuplicateName}
		}
		seen[name.String()] = true
		if err := dec.SkipValue(); err != nil {
			return wrap(err)
		}
	}
	return nil
}

// wrap turns a decoder error into an *Error with a short message.
func wrap(err error) error {
	var se *jsontext.SyntacticError
	var me *json.SemanticError
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName):
		return &Error{Message: fmt.Sprintf("duplicate key %s.", pointerName(err)), Err: err}
	case errors.Is(err, json.ErrUnknownName):
		return &Error{Message: fmt.Sprintf("unknown field %s.", pointerName(err)), Err: err}
	case errors.As(err, &se):
		return &Error{Message: fmt.Sprintf("malformed JSON at byte %d.", se.ByteOffset), Err: err}
	case errors.As(err, &me):
		field := strings.TrimPrefix(string(me.JSONPointer), "/")
		if me.GoType != nil && field != "" {
			return &Error{Message: fmt.Sprintf("field %q: expected %s.", Truncate(field, 60), me.GoType), Err: err}
		}
		if me.GoType != nil {
			return &Error{Message: fmt.Sprintf("expected %s.", me.GoType), Err: err}
		}
	}
	return &Error{Message: Truncate(strings.TrimPrefix(err.Error(), "json: "), 120) + ".", Err: err}
}

// pointerName returns the last name of the JSON pointer of err, quoted.
func pointerName(err error) string {
	var se *jsontext.SyntacticError
	var me *json.SemanticError
	var p jsontext.Pointer
	switch {
	case errors.As(err, &se):
		p = se.JSONPointer
	case errors.As(err, &me):
		p = me.JSONPointer
	}
	s := string(p)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
	return fmt.Sprintf("%q", Truncate(s, 60))
}

// Truncate returns s cut to at most n bytes on a rune boundary, with "…"
// appended when it was cut: an input echoed in an error message stays
// short and valid UTF-8.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
