package store

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The token rules of an erasure: an id or a name is replaced only as a
// whole token, so that erasing TR-1 never touches TR-10 and erasing
// "Ali" never touches "Alice".

// isIDRune says which runes continue an id token (TR-1 is not in TR-10).
func isIDRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_'
}

// isWordRune says which runes continue a name token.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// tokenAt reports whether s[i:i+n] is a whole token for in.
func tokenAt(s string, i, n int, in func(rune) bool) bool {
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); in(r) {
			return false
		}
	}
	if i+n < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[i+n:]); in(r) {
			return false
		}
	}
	return true
}

// hasToken reports whether s holds tok as a whole token.
func hasToken(s, tok string, in func(rune) bool) bool {
	return replaceToken(s, tok, "\x00", in) != s
}

// replaceToken replaces every whole-token occurrence of old in s by new.
func replaceToken(s, old, new string, in func(rune) bool) string {
	if old == "" || !strings.Contains(s, old) {
		return s
	}
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(s[i:], old)
		if j < 0 {
			break
		}
		j += i
		b.WriteString(s[i:j])
		if tokenAt(s, j, len(old), in) {
			b.WriteString(new)
		} else {
			b.WriteString(old)
		}
		i = j + len(old)
	}
	b.WriteString(s[i:])
	return b.String()
}

// scrubNames replaces each name (as a whole word) by "***".
func scrubNames(s string, names []string) string {
	for _, n := range names {
		s = replaceToken(s, n, "***", isWordRune)
	}
	return s
}

// blankJSON blanks the string values of personal fields (personalFields,
// at any depth) of a JSON object or array; any other text is returned as
// is.
func blankJSON(s string) string {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return s
	}
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return s
	}
	changed := false
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if str, ok := e.(string); ok && personalFields[k] && str != "" {
					x[k], changed = "", true
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	if !changed {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return s
	}
	return string(b)
}
