package prodays_test

import (
	"strings"
	"testing"

	"prodays"
)

// TestCheckText: what each rule accepts (the office's hard-but-legal
// names) and refuses (controls, invalid UTF-8, line breaks in one-line
// fields, lengths), and that a refusal names the field.
func TestCheckText(t *testing.T) {
	line := prodays.TextRule{Max: 10}
	multi := prodays.TextRule{Max: 10, Multiline: true}
	for _, tc := range []struct {
		name string
		in   string
		rule prodays.TextRule
		want string // the cleaned value; "" with refused
		bad  string // a fragment of the refusal's message
	}{
		{"plain", "Aït", line, "Aït", ""},
		{"trimmed", "  Aït \t", line, "Aït", ""},
		{"NFC", "Ai\u0308t", line, "Aït", ""},
		{"Arabic", "العلوي", line, "العلوي", ""},
		{"ZWJ emoji", "👩\u200d💻", line, "👩\u200d💻", ""},
		{"direction mark", "\u200fعلي", line, "\u200fعلي", ""},
		{"formula", "=SUM(A1)", line, "=SUM(A1)", ""},
		{"quotes", `N'Diaye "Simo"`, prodays.TextName, `N'Diaye "Simo"`, ""},
		{"name over lines", "Aït\nBaha", prodays.TextName, "Aït\nBaha", ""},
		{"code over lines", "E1\nE2", prodays.TextCode, "", "U+000A (line feed)"},
		{"empty", "", line, "", ""},
		{"10 runes", strings.Repeat("é", 10), line, strings.Repeat("é", 10), ""},
		{"11 runes", strings.Repeat("é", 11), line, "", "at most 10 characters (11 given)"},
		{"NUL", "a\x00b", line, "", "U+0000 (NUL) at character 2"},
		{"BEL", "a\x07", multi, "", "U+0007 (BEL)"},
		{"ESC", "\x1b[2Ja", line, "", "U+001B (ESC) at character 1"},
		{"CR", "a\rb", multi, "", "U+000D (carriage return)"},
		{"VT", "a\vb", multi, "", "control character U+000B"},
		{"DEL", "a\x7fb", multi, "", "U+007F (DEL)"},
		{"NEL", "a\u0085b", multi, "", "U+0085 (NEL)"},
		{"C1", "a\u009bb", multi, "", "control character U+009B"},
		{"invalid UTF-8", "a\xffb", multi, "", "not valid UTF-8"},
		{"lone surrogate bytes", "a\xed\xa0\x80b", multi, "", "not valid UTF-8"},
		{"tab in one line", "a\tb", line, "", "U+0009 (tab)"},
		{"LF in one line", "a\nb", line, "", "U+000A (line feed)"},
		{"U+2028 in one line", "a\u2028b", line, "", "U+2028 (line separator)"},
		{"tab in multiline", "a\tb", multi, "a\tb", ""},
		{"LF in multiline", "a\nb", multi, "a\nb", ""},
		{"U+2029 in multiline", "a\u2029b", multi, "a\u2029b", ""},
		{"300-rune name", strings.Repeat("ب", 300), prodays.TextName, strings.Repeat("ب", 300), ""},
		{"301-rune name", strings.Repeat("ب", 301), prodays.TextName, "", "at most 300"},
		{"title over lines", "Rencontre\nMétiers verts", prodays.TextTitle, "Rencontre\nMétiers verts", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := prodays.CheckText("last_name", tc.in, tc.rule)
			if tc.bad == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %q accepted, want refused (%s)", got, tc.bad)
			}
			if code := prodays.ErrorCode(err); code != prodays.EInvalid {
				t.Errorf("code %s, want invalid", code)
			}
			if msg := prodays.ErrorMessage(err); !strings.HasPrefix(msg, "last_name: ") || !strings.Contains(msg, tc.bad) {
				t.Errorf("message %q, want last_name: …%s…", msg, tc.bad)
			}
		})
	}
}

// TestCheckTextRulesFitTheFiles: the rules accept the longest values of
// shared/formats (300-character names, titles over lines).
func TestCheckTextRulesFitTheFiles(t *testing.T) {
	for field, r := range prodays.TraineeText {
		if r.Max < 13 {
			t.Errorf("%s: max %d cannot hold a matricule", field, r.Max)
		}
	}
	if prodays.TraineeText["last_name"].Max < 300 || prodays.TextTitle.Max < 300 || !prodays.TextTitle.Multiline || !prodays.TextName.Multiline {
		t.Errorf("names and titles must hold 300 characters and line breaks")
	}
}

// TestCheckUsername: the username pattern of the admin API and users.csv.
func TestCheckUsername(t *testing.T) {
	for in, ok := range map[string]bool{
		"a.yacoubi": true, " d.oulhaj ": true, "x1": true, "a_b-c@d": true,
		"a": false, ".a": false, "a b": false, "a\x00b": false, "é.t": false, strings.Repeat("a", 65): false,
	} {
		got, err := prodays.CheckUsername("username", in)
		if (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%v", in, err, ok)
		}
		if ok && got != strings.TrimSpace(in) {
			t.Errorf("%q: cleaned to %q", in, got)
		}
	}
}
