package prodays

import (
	"unicode"

	"github.com/google/uuid"
)

// CheckID checks an id or code that is compared as sent, never cleaned
// (activity_id, person.id, trainee_id, establishment_code, device_id):
// TextCode (valid UTF-8, one line, no control character, at most 100
// characters) and no change under CleanText (no white space around it,
// Unicode NFC), so that "X\n" or " X" is refused rather than looked up as
// an id that cannot exist. Errors: an *Error with code EInvalid whose
// message starts with field.
func CheckID(field, s string) error {
	clean, err := CheckText(field, s, TextCode)
	if err != nil {
		return err
	}
	if clean != s {
		return Errorf(EInvalid, "%s: white space around the id, or text not in Unicode NFC, is not allowed.", field)
	}
	// Format characters (zero-width space, BOM, direction marks...) are
	// invisible: an id holding one looks like another id in every list.
	for i, r := range s {
		if unicode.Is(unicode.Cf, r) {
			return Errorf(EInvalid, "%s: the invisible character U+%04X at byte %d is not allowed in an id.", field, r, i)
		}
	}
	return nil
}

// CanonicalDeviceID returns the device_id a login or push names, as
// stored: a UUID in any of the forms uuid.Parse reads (upper case,
// braces, urn:uuid:, no dashes) becomes its canonical lower-case
// 36-character form, so one installation is one device; any other id must
// pass CheckID (one line, no control character, no white space around it,
// at most 100 characters) and is kept as sent. Errors: EInvalid (empty, or
// refused by CheckID).
func CanonicalDeviceID(id string) (string, error) {
	if id == "" {
		return "", Errorf(EInvalid, "device_id is required (a UUID made once per installation).")
	}
	if u, err := uuid.Parse(id); err == nil {
		return u.String(), nil
	}
	if err := CheckID("device_id", id); err != nil {
		return "", err
	}
	return id, nil
}
