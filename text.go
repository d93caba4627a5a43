package prodays

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TextRule bounds one kind of free-text field. Every text that enters
// prodays (import files, phones' pushes, the admin API) is checked by
// CheckText under the rule of its field, so that what one door refuses
// no other door lets in.
type TextRule struct {
	// Max is the longest value, in characters (Unicode code points) after
	// CleanText.
	Max int
	// Multiline allows tabs and line feeds (the office's spreadsheets hold
	// cells over several lines). A one-line field (ids, codes) refuses
	// them, and U+2028 and U+2029 too.
	Multiline bool
}

// The rules of the fields, sized on the office's files
// (shared/formats/README.md: names and titles of 300 characters, line
// breaks inside fields), with room to spare for the shorter ones;
// shared/datasets holds nothing longer.
var (
	// TextName: a person's last_name, first_name or full_name.
	TextName = TextRule{Max: 300, Multiline: true}
	// TextTitle: an activity's title, the name of an establishment,
	// company or organisation.
	TextTitle = TextRule{Max: 300, Multiline: true}
	// TextLabel: a program, group, city, sector, speaker's title, region
	// name (the longest in the files: 45 characters).
	TextLabel = TextRule{Max: 200, Multiline: true}
	// TextCode: an id or code (trainee_id, activity_id, establishment
	// codes, device_id), a gender, a role, a date: one line.
	TextCode = TextRule{Max: 100}
	// TextReason: the reason a supervisor or admin gives for a decision.
	TextReason = TextRule{Max: 500, Multiline: true}
)

// TraineeText is the rule of each text field of a trainee, under its
// import-file (trainees.csv) and wire (trainee.register, trainee.update)
// names.
var TraineeText = map[string]TextRule{
	"trainee_id": TextCode, "last_name": TextName, "first_name": TextName, "establishment_code": TextCode,
	"program": TextLabel, "group": TextLabel, "gender": TextCode,
}

// CleanText is how every text value is stored: outer white space trimmed,
// then Unicode NFC (shared/formats). Nothing else is altered.
func CleanText(s string) string {
	return norm.NFC.String(strings.TrimSpace(s))
}

// CheckText returns s cleaned (CleanText) when it is acceptable under r.
// Otherwise it returns an *Error with code EInvalid whose message starts
// with field: "field: …". Refused: invalid UTF-8; the C0 control
// characters (U+0000-U+001F: NUL, BEL, ESC, CR…) except, in a Multiline
// field, tab and line feed; DEL (U+007F) and the C1 controls
// (U+0080-U+009F); in a one-line field, U+2028 and U+2029; and values over
// r.Max characters. Format characters (joiners, direction marks) are
// text: names use them. Emptiness is the caller's to check.
func CheckText(field, s string, r TextRule) (string, error) {
	if !utf8.ValidString(s) {
		return "", Errorf(EInvalid, "%s: not valid UTF-8.", field)
	}
	s = CleanText(s)
	n := 0
	for _, c := range s {
		n++
		if !allowed(c, r.Multiline) {
			return "", Errorf(EInvalid, "%s: %s at character %d is not allowed.", field, describe(c), n)
		}
	}
	if n > r.Max {
		return "", Errorf(EInvalid, "%s: at most %d characters (%d given).", field, r.Max, n)
	}
	return s, nil
}

// allowed reports whether c may appear in a text field.
func allowed(c rune, multiline bool) bool {
	switch {
	case c == '\t' || c == '\n':
		return multiline
	case c < 0x20, c >= 0x7f && c <= 0x9f:
		return false
	case c == '\u2028' || c == '\u2029':
		return multiline
	}
	return true
}

// controlNames are the names of the characters refused most often.
var controlNames = map[rune]string{0: "NUL", 7: "BEL", 8: "BS", '\t': "tab", '\n': "line feed", '\r': "carriage return",
	0x1b: "ESC", 0x7f: "DEL", 0x85: "NEL", 0x2028: "line separator", 0x2029: "paragraph separator"}

func describe(c rune) string {
	if name, ok := controlNames[c]; ok {
		return fmt.Sprintf("%U (%s)", c, name)
	}
	return fmt.Sprintf("control character %U", c)
}

// usernamePattern: 2 to 64 characters, ASCII letters, digits and . _ @ -,
// starting with a letter or digit.
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$`)

// CheckUsername returns u cleaned when it is a valid username (2 to 64
// ASCII letters, digits or . _ @ -, starting with a letter or digit), and
// otherwise an *Error with code EInvalid naming field.
func CheckUsername(field, u string) (string, error) {
	u = strings.TrimSpace(u)
	if !usernamePattern.MatchString(u) {
		return "", Errorf(EInvalid, "%s: 2 to 64 letters, digits or . _ @ -, starting with a letter or digit.", field)
	}
	return u, nil
}
