package export

import (
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Fallback is what the PDFs draw in place of a character the embedded
// fonts cannot draw: U+FFFD REPLACEMENT CHARACTER, which DejaVu Sans has
// (a diamond with a question mark) and which a PDF reader's text
// extraction gives back as "\uFFFD".
const Fallback = '\uFFFD'

// coverage is a set of BMP runes: bit r is set when both embedded fonts
// (regular and bold) map r to a glyph.
type coverage [0x10000 / 64]uint64

func (c *coverage) has(r rune) bool {
	return r >= 0 && r < 0x10000 && c[r>>6]&(1<<(r&63)) != 0
}

// glyphs is the set of runes the PDFs can draw, read once from the
// embedded fonts.
var glyphs = sync.OnceValue(func() *coverage {
	reg, err := cmapCoverage(fontRegular)
	if err != nil {
		panic(fmt.Sprintf("export: embedded regular font: %v", err))
	}
	bold, err := cmapCoverage(fontBold)
	if err != nil {
		panic(fmt.Sprintf("export: embedded bold font: %v", err))
	}
	for i := range reg {
		reg[i] &= bold[i]
	}
	return reg
})

// cmapCoverage reads the runes a TrueType font maps to a glyph other
// than .notdef, from its Unicode BMP cmap subtable (platform 3 encoding 1,
// or platform 0, format 4): the only one fpdf reads (utf8fontfile.go,
// generateCMAP), so a rune outside it is one fpdf cannot draw, and a rune
// above U+FFFF is never in it. Errors: a font without such a subtable, or
// truncated.
func cmapCoverage(ttf []byte) (*coverage, error) {
	u16 := func(off int) (int, error) {
		if off < 0 || off+2 > len(ttf) {
			return 0, fmt.Errorf("truncated font at %d", off)
		}
		return int(binary.BigEndian.Uint16(ttf[off:])), nil
	}
	u32 := func(off int) (int, error) {
		if off < 0 || off+4 > len(ttf) {
			return 0, fmt.Errorf("truncated font at %d", off)
		}
		return int(binary.BigEndian.Uint32(ttf[off:])), nil
	}
	numTables, err := u16(4)
	if err != nil {
		return nil, err
	}
	cmap := -1
	for i := 0; i < numTables; i++ {
		rec := 12 + 16*i
		if rec+16 > len(ttf) {
			return nil, fmt.Errorf("truncated table directory")
		}
		if string(ttf[rec:rec+4]) == "cmap" {
			if cmap, err = u32(rec + 8); err != nil {
				return nil, err
			}
		}
	}
	if cmap < 0 {
		return nil, fmt.Errorf("no cmap table")
	}
	n, err := u16(cmap + 2)
	if err != nil {
		return nil, err
	}
	sub := -1
	for i := 0; i < n && sub < 0; i++ {
		rec := cmap + 4 + 8*i
		platform, err1 := u16(rec)
		encoding, err2 := u16(rec + 2)
		off, err3 := u32(rec + 4)
		if err := firstErr(err1, err2, err3); err != nil {
			return nil, err
		}
		if platform == 3 && encoding == 1 || platform == 0 {
			if format, err := u16(cmap + off); err == nil && format == 4 {
				sub = cmap + off
			}
		}
	}
	if sub < 0 {
		return nil, fmt.Errorf("no Unicode BMP cmap (format 4)")
	}
	segX2, err := u16(sub + 6)
	if err != nil {
		return nil, err
	}
	ends, starts := sub+14, sub+16+segX2
	deltas, ranges := starts+segX2, starts+2*segX2
	c := new(coverage)
	for s := 0; s < segX2; s += 2 {
		end, err1 := u16(ends + s)
		start, err2 := u16(starts + s)
		delta, err3 := u16(deltas + s)
		rangeOff, err4 := u16(ranges + s)
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return nil, err
		}
		for r := start; r <= end && r < 0xFFFF; r++ {
			gid := (r + delta) & 0xFFFF
			if rangeOff != 0 {
				g, err := u16(ranges + s + rangeOff + 2*(r-start))
				if err != nil {
					return nil, err
				}
				gid = 0
				if g != 0 {
					gid = (g + delta) & 0xFFFF
				}
			}
			if gid != 0 {
				c[r>>6] |= 1 << (r & 63)
			}
		}
	}
	return c, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// invisible reports whether r draws nothing by itself (joiners, variation
// selectors, bidi controls, tags, the byte order mark): when the fonts
// lack it, it is dropped, or absorbed in the fallback of the cluster it
// belongs to, rather than shown as a fallback of its own.
func invisible(r rune) bool {
	switch {
	case r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2060 && r <= 0x206F,
		r == 0xFEFF, r >= 0xE0000 && r <= 0xE0FFF:
		return true
	}
	return unicode.Is(unicode.Variation_Selector, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// FontSafe returns s with every character the embedded fonts cannot draw
// replaced, so that fpdf never sees a rune it cannot handle: it panics on
// any rune above U+FFFF (go-pdf/fpdf v0.9.0 keeps glyph widths in a
// 65536-entry table) and draws .notdef for a BMP rune the font lacks.
//
//   - A character the fonts have (BMP, in the cmap of both DejaVu Sans
//     faces) is kept.
//   - A visible character they lack (emoji, flags, supplementary CJK, any
//     rune above U+FFFF, private use, unassigned, controls) becomes
//     Fallback; a cluster of them — an emoji ZWJ sequence, a flag's two
//     regional indicators, an emoji and its skin tone, two emoji side by
//     side — becomes one Fallback: "Houda 👨‍👩‍👧" gives "Houda \uFFFD".
//   - An invisible character (zero-width joiner, variation selector, bidi
//     control) inside such a cluster is part of it; elsewhere it is kept
//     when the fonts have it, dropped when they lack it.
//   - Invalid UTF-8 bytes count as characters the fonts lack.
//
// The result is valid UTF-8 and FontSafe(FontSafe(s)) == FontSafe(s). It
// is a limitation of the PDF fonts, not of the data: the database, the
// CSV and the XLSX exports keep the characters.
func FontSafe(s string) string {
	g := glyphs()
	clean := true
	for _, r := range s {
		if !g.has(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	inRun := false // the last thing written is a Fallback standing for a cluster
	for i, w := 0, 0; i < len(s); i += w {
		var r rune
		r, w = utf8.DecodeRuneInString(s[i:])
		bad := r == utf8.RuneError && w == 1
		switch {
		case !bad && invisible(r) && inRun:
			// a joiner or selector inside the cluster already shown, even
			// one the fonts have (DejaVu has U+200D)
		case !bad && g.has(r):
			b.WriteRune(r)
			inRun = false
		case !bad && invisible(r):
			// dropped
		case inRun:
			// one more piece of the cluster
		default:
			b.WriteRune(Fallback)
			inRun = true
		}
	}
	return b.String()
}

// recoverPDF turns a panic met while building a PDF (a bug of ours or of
// fpdf) into an error of *err, with the panic value and the stack for the
// log: the export answers a plain 500 problem+json, its cursor and
// transaction are closed by their defers, and nothing was written yet
// (fpdf writes the document in one piece at the end). Use: defer
// recoverPDF("badges", &err).
func recoverPDF(what string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s pdf: panic: %v\n%s", what, r, debug.Stack())
	}
}
