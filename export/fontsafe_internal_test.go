package export

import (
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// hostile are the names of the PDF finding of issue #13: characters above
// U+FFFF, clusters of them, and BMP characters the fonts lack, mixed with
// Arabic (shaped) and Latin text.
var hostile = []string{
	"Houda 👨‍👩‍👧", "CMC Guelmim 🌿", "N😀X", "🇲🇦 Maroc", "Leila 👍🏽", "𠀋𠀌 Lin", "\U00010000", "\U0010FFFF",
	"\uE000\uFDD0\uFFFE\uFFFF\u0378", "a\u200db", "❤️ x", "فاطمة 😀 الزهراء", "محمد (👨‍👩‍👧) Pro'Days 2026",
	"\x00\x01\x7f\u0085", "bad \xff\xfe utf8 \xe2", "\xf0\x9f\x98", "", " ", "\U0001F600\u0301", "\u202eRLO\u202c",
	strings.Repeat("😀", 300),
}

// TestGlyphCoverage: the coverage read from the embedded fonts has what
// the PDFs draw on purpose (Latin with accents, the typography of the
// layouts, the Arabic letters and every presentation form ShapeArabic
// produces, the mirrored brackets, the fallback) and nothing above
// U+FFFF.
func TestGlyphCoverage(t *testing.T) {
	g := glyphs()
	want := []rune("AZaz09 'éèêëàâîïôöùûüçÉÀÇŒœ«»’—–…°€№")
	want = append(want, Fallback)
	for l, forms := range arabicForms {
		want = append(want, l)
		for _, f := range forms {
			if f != 0 {
				want = append(want, f)
			}
		}
	}
	for _, lig := range lamAlef {
		want = append(want, lig[0], lig[1])
	}
	for a, b := range mirror {
		want = append(want, a, b)
	}
	for _, r := range want {
		if !g.has(r) {
			t.Errorf("the fonts lack %U %q", r, r)
		}
	}
	for _, r := range []rune{0x10000, 0x1F600, 0x2000B, 0x10FFFF, -1, 0xFFFF, 0xE000, 0x0378} {
		if g.has(r) {
			t.Errorf("coverage claims %U", r)
		}
	}
	if _, err := cmapCoverage(fontRegular[:100]); err == nil {
		t.Error("a truncated font: no error")
	}
}

func TestFontSafe(t *testing.T) {
	const fb = "\uFFFD"
	for _, tc := range []struct{ in, want string }{
		{"Alaoui Zoé", "Alaoui Zoé"},
		{"فاطمة", "فاطمة"},
		{"Houda 👨‍👩‍👧", "Houda " + fb},
		{"CMC Guelmim 🌿", "CMC Guelmim " + fb},
		{"N😀X", "N" + fb + "X"},
		{"🇲🇦 Maroc", fb + " Maroc"},
		{"Leila 👍🏽 Amal", "Leila " + fb + " Amal"},
		{"😀😀 x 😀", fb + " x " + fb},
		{"\U00010000", fb},
		{"\U0010FFFF", fb},
		{"𠀋 Lin", fb + " Lin"},
		{"a\uE000b\uFFFFc\u0378d", "a" + fb + "b" + fb + "c" + fb + "d"},
		{"❤️", "❤️"},               // the fonts have both (U+FE0F draws nothing)
		{"a\u2066b\u2069c", "abc"}, // isolates the fonts lack: dropped
		{"bad \xff\xfe end", "bad " + fb + " end"},
		{"\xe2", fb},
		{"N\x00X", "N" + fb + "X"},
	} {
		if got := FontSafe(tc.in); got != tc.want {
			t.Errorf("FontSafe(%q) = %q %U, want %q", tc.in, got, []rune(got), tc.want)
		}
	}
}

// checkSafe fails unless s holds only runes the fonts draw, as valid
// UTF-8.
func checkSafe(t *testing.T, what, in, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s(%q) = %q: invalid UTF-8", what, in, s)
	}
	for _, r := range s {
		if !glyphs().has(r) {
			t.Fatalf("%s(%q) = %q holds %U, which the fonts lack", what, in, s, r)
		}
	}
}

// drawAll puts s through every text path of the PDFs (cells, fitted and
// truncated; table rows; paragraphs left to right and right to left; the
// footer's title; raw CellFormat and the measuring) and writes the
// document.
func drawAll(t *testing.T, s string) {
	t.Helper()
	d := newDoc("Badges — "+s, time.Date(2026, 3, 27, 9, 30, 0, 0, time.UTC))
	d.AddPage()
	d.font("B", 11)
	d.cell(60, 6, s, "", "L", false)
	d.cell(5, 6, s, "", "L", false)
	d.font("", 9)
	cols := []column{{"N°", 9, "R"}, {"Nom", 60, "L"}}
	d.tableHeader(cols)
	d.tableRow(cols, "1", s)
	d.paragraph("Nous attestons que "+s+", stagiaire", 150, 6, "L", false)
	d.paragraph("نشهد أن المتدرب(ة) "+s+"، رقم", 150, 7, "R", true)
	d.CellFormat(100, 6, s, "", 1, "L", false, 0, "")
	d.GetStringWidth(s)
	d.MultiCell(100, 5, s, "", "L", false)
	d.Write(5, s)
	d.Text(20, 200, s)
	d.Cell(40, 5, s)
	if err := d.output(io.Discard); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
}

func TestHostileNamesDraw(t *testing.T) {
	for _, s := range hostile {
		checkSafe(t, "PDFText", s, PDFText(s))
		checkSafe(t, "PDFTextRTL", s, PDFTextRTL(s))
		drawAll(t, s)
	}
}

// TestRandomNamesDraw draws random strings over a mixed alphabet (Latin,
// Arabic, marks, joiners, emoji, supplementary CJK, private use,
// controls, invalid bytes) in one document; PDFText and FontSafe give
// only drawable runes, FontSafe is idempotent.
func TestRandomNamesDraw(t *testing.T) {
	alphabet := []string{"a", "Z", " ", "é", "e\u0301", "ب", "ل", "ا", "\u064E", "(", "«", "1", "\u200d", "\ufe0f",
		"😀", "👨", "🇲", "🏽", "𠀋", "\U00010000", "\U0010FFFF", "\uE000", "\uFFFF", "\u0378", "\x00", "\n", "\xff", "\uFFFD", "\u202e"}
	r := rand.New(rand.NewPCG(13, 13))
	d := newDoc("random", time.Date(2026, 3, 27, 9, 30, 0, 0, time.UTC))
	d.AddPage()
	d.font("", 9)
	for i := range 1500 {
		var b strings.Builder
		for range 1 + r.IntN(16) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		checkSafe(t, "PDFText", s, PDFText(s))
		checkSafe(t, "PDFTextRTL", s, PDFTextRTL(s))
		if once := FontSafe(s); FontSafe(once) != once {
			t.Fatalf("FontSafe(%q) = %q, not a fixed point: %q", s, once, FontSafe(once))
		}
		if i%50 == 0 {
			d.AddPage()
		}
		d.SetXY(margin, margin+float64(i%50)*5)
		d.cell(80, 5, s, "", "L", false)
		d.paragraph(s, 80, 5, "R", true)
	}
	if err := d.output(io.Discard); err != nil {
		t.Fatal(err)
	}
}

// FuzzPDFText: any string (valid UTF-8 or not) through the PDF text path
// and a whole document never panics, and what reaches fpdf holds only
// runes the fonts draw. `go test` runs the seeds; go test -fuzz
// FuzzPDFText ./export explores.
func FuzzPDFText(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSafe(t, "PDFText", s, PDFText(s))
		checkSafe(t, "PDFTextRTL", s, PDFTextRTL(s))
		drawAll(t, s)
	})
}

// BenchmarkFontSafe: the cost per name of the check on every drawn
// string (a clean name takes the fast path and is not copied).
func BenchmarkFontSafe(b *testing.B) {
	for name, s := range map[string]string{"clean": "Ben Abdelkrim El Khattabi Aït Ouarab", "emoji": "Houda 👨‍👩‍👧 Fathi"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				FontSafe(s)
			}
		})
	}
}
