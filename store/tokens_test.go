package store

import "testing"

func TestReplaceToken(t *testing.T) {
	for _, tc := range []struct {
		name, s, old, new, want string
	}{
		{"whole", "TR-1", "TR-1", "ANON-A", "ANON-A"},
		{"in text", "moved TR-1 to EFP0105", "TR-1", "ANON-A", "moved ANON-A to EFP0105"},
		{"prefix of a longer id", "TR-10", "TR-1", "ANON-A", "TR-10"},
		{"suffix of a longer id", "XTR-1", "TR-1", "ANON-A", "XTR-1"},
		{"after a dash", "A-TR-1", "TR-1", "ANON-A", "A-TR-1"},
		{"before an underscore", "TR-1_x", "TR-1", "ANON-A", "TR-1_x"},
		{"in JSON", `{"trainee_id":"TR-1","n":"TR-10"}`, "TR-1", "ANON-A", `{"trainee_id":"ANON-A","n":"TR-10"}`},
		{"in an attendance id", "ACT-1:trainee:TR-1", "TR-1", "ANON-A", "ACT-1:trainee:ANON-A"},
		{"twice", "TR-1 TR-1", "TR-1", "X", "X X"},
		{"mixed", "TR-10 TR-1 TR-1a", "TR-1", "X", "TR-10 X TR-1a"},
		{"empty old", "TR-1", "", "X", "TR-1"},
		{"absent", "nothing here", "TR-1", "X", "nothing here"},
		{"next to a letter with an accent", "éTR-1", "TR-1", "X", "éTR-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := replaceToken(tc.s, tc.old, tc.new, isIDRune); got != tc.want {
				t.Errorf("replaceToken(%q, %q, %q): got %q, want %q", tc.s, tc.old, tc.new, got, tc.want)
			}
			if got, want := hasToken(tc.s, tc.old, isIDRune), tc.want != tc.s; got != want {
				t.Errorf("hasToken(%q, %q): got %v, want %v", tc.s, tc.old, got, want)
			}
		})
	}
}

func TestScrubNames(t *testing.T) {
	names := []string{"El Amrani", "EL AMRANI", "Amrani", "AMRANI", "amrani", "Ali"}
	for _, tc := range []struct {
		name, s, want string
	}{
		{"compound first", "Merged El Amrani into the roster", "Merged *** into the roster"},
		{"part", "Amrani asked", "*** asked"},
		{"upper", "AMRANI, Ali", "***, ***"},
		{"inside a word", "Alice and Alibaba", "Alice and Alibaba"},
		{"digits continue a word", "Ali2", "Ali2"},
		{"punctuation ends a word", "(Ali)", "(***)"},
		{"dash ends a word", "Ali-Amrani", "***-***"},
		{"nothing", "no names here", "no names here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scrubNames(tc.s, names); got != tc.want {
				t.Errorf("scrubNames(%q): got %q, want %q", tc.s, got, tc.want)
			}
		})
	}
}

func TestBlankJSON(t *testing.T) {
	for _, tc := range []struct {
		name, s, want string
	}{
		{"personal fields", `{"trainee":{"id":"X","last_name":"Amrani","first_name":"Ali","group":"G1"}}`,
			`{"trainee":{"first_name":"","group":"","id":"X","last_name":""}}`},
		{"in an array", `[{"gender":"F"},{"program":"Dev"}]`, `[{"gender":""},{"program":""}]`},
		{"nothing personal", `{"trainee_id":"X","present":true}`, `{"trainee_id":"X","present":true}`},
		{"already blank", `{"last_name":""}`, `{"last_name":""}`},
		{"not a string", `{"last_name":3}`, `{"last_name":3}`},
		{"numbers kept exact", `{"last_name":"A","seq":12345678901234567890}`, `{"last_name":"","seq":12345678901234567890}`},
		{"not JSON", "Amrani", "Amrani"},
		{"broken JSON", `{"last_name":`, `{"last_name":`},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := blankJSON(tc.s); got != tc.want {
				t.Errorf("blankJSON(%q): got %q, want %q", tc.s, got, tc.want)
			}
		})
	}
}
