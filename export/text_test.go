package export_test

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/text/unicode/norm"

	"prodays/export"
)

func TestNeutralize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Alaoui", "Alaoui"},
		{`=HYPERLINK("x","y")`, `'=HYPERLINK("x","y")`},
		{"+212600000000", "'+212600000000"},
		{"-Rachid", "'-Rachid"},
		{"@Bouzidi", "'@Bouzidi"},
		{"\tTab", "'\tTab"},
		{"\rReturn", "'\rReturn"},
		{"N'Diaye", "N'Diaye"},
		{" =x", " =x"}, // only the first character counts
		{"a=b", "a=b"},
	} {
		if got := export.Neutralize(tc.in); got != tc.want {
			t.Errorf("Neutralize(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestShapeArabic(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []rune
	}{
		{"bennani", "بناني", []rune{0xFE91, 0xFEE8, 0xFE8E, 0xFEE7, 0xFEF2}},
		{"mohamed", "محمد", []rune{0xFEE3, 0xFEA4, 0xFEE4, 0xFEAA}},
		{"la alone", "لا", []rune{0xFEFB}},
		{"salam (lam-alef final)", "سلام", []rune{0xFEB3, 0xFEFC, 0xFEE1}},
		{"alef hamza ligature", "لأ", []rune{0xFEF7}},
		{"harakat do not break joining", "مُحَمَّد", []rune{0xFEE3, 0x064F, 0xFEA4, 0x064E, 0xFEE4, 0x064E, 0x0651, 0xFEAA}},
		{"isolated hamza and ta marbuta", "فاطمة", []rune{0xFED3, 0xFE8E, 0xFEC3, 0xFEE4, 0xFE94}},
		{"latin untouched", "Aït", []rune("Aït")},
		{"word boundary", "ب ب", []rune{0xFE8F, ' ', 0xFE8F}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := []rune(export.ShapeArabic(tc.in)); string(got) != string(tc.want) {
				t.Fatalf("got %U, want %U", got, tc.want)
			}
		})
	}
}

// TestShapeArabicRoundTrip: compatibility normalisation (NFKC) of the
// presentation forms gives the letters back, for any word.
func TestShapeArabicRoundTrip(t *testing.T) {
	letters := []rune("ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي ")
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + r.IntN(12)
		w := make([]rune, n)
		for i := range w {
			w[i] = letters[r.IntN(len(letters))]
		}
		s := string(w)
		if got := norm.NFKC.String(export.ShapeArabic(s)); got != s {
			t.Fatalf("NFKC(shape(%q)) = %q", s, got)
		}
	}
}

func TestVisual(t *testing.T) {
	shaped := func(s string) []rune { return []rune(export.ShapeArabic(s)) }
	rev := func(rs []rune) string {
		out := make([]rune, len(rs))
		for i, r := range rs {
			out[len(rs)-1-i] = r
		}
		return string(out)
	}
	for _, tc := range []struct {
		name, in string
		rtl      bool
		want     string
	}{
		{"latin", "Aït Taleb", false, "Aït Taleb"},
		{"arabic name", "بناني", false, rev(shaped("بناني"))},
		{"two words", "فاطمة الزهراء", false, rev(shaped("فاطمة الزهراء"))},
		{"latin then arabic", "IFMIA – التكوين المهني", false, "IFMIA – " + rev(shaped("التكوين المهني"))},
		{"arabic paragraph with latin and number", "شهادة Pro'Days 2026", true, "Pro'Days 2026 " + rev(shaped("شهادة"))},
		{"brackets mirrored", "محمد (مدير)", false, rev(shaped("محمد )مدير("))},
		{"marks stay after their base", "مُحمد", false, string([]rune{0xFEAA, 0xFEE4, 0xFEA4, 0xFEE3, 0x064F})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := export.Visual(tc.in, tc.rtl); got != tc.want {
				t.Fatalf("got %q %U\nwant %q %U", got, []rune(got), tc.want, []rune(tc.want))
			}
		})
	}
}

func TestPDFTextNormalisesAndFlattens(t *testing.T) {
	if got := export.PDFText("Ai\u0308t  \nZoe\u0301"); got != "Aït   Zoé" {
		t.Fatalf("got %q", got)
	}
}
