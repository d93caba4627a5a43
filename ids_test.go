package prodays

import (
	"strings"
	"testing"
)

func TestCanonicalDeviceID(t *testing.T) {
	const lower = "0190d5a4-8f0c-7a11-9c3b-2f4e5d6a7b8c"
	for in, want := range map[string]string{
		lower: lower, strings.ToUpper(lower): lower, "{" + lower + "}": lower, "urn:uuid:" + lower: lower,
		strings.ReplaceAll(lower, "-", ""): lower, "dev-1": "dev-1", "staff1 tablet": "staff1 tablet",
	} {
		if got, err := CanonicalDeviceID(in); err != nil || got != want {
			t.Errorf("CanonicalDeviceID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", " " + lower, lower + " ", lower + "\n", "a\x1b]0;pwn\x07", "a\x00", "a\u2028b", strings.Repeat("d", 101), "\xff",
		"dev-1\u200b", "\ufeffdev-1", "dev\u180e-1", "dev-\u202e1"} {
		if got, err := CanonicalDeviceID(in); ErrorCode(err) != EInvalid {
			t.Errorf("CanonicalDeviceID(%q) = %q, %v; want invalid", in, got, err)
		}
	}
}
