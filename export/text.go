package export

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Neutralize returns s made safe for a spreadsheet (CWE-1236, formula
// injection): a value that starts with '=', '+', '-', '@', a tab or a
// carriage return is prefixed with a single quote, so that no spreadsheet
// evaluates it as a formula. Every other value is returned unchanged. The
// rule is documented in docs/exports.md.
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// arabicForms holds, for each Arabic letter, its presentation forms
// (isolated, final, initial, medial) in Unicode's Arabic Presentation
// Forms-A/B blocks. A right-joining letter (it joins only to the letter
// before it) has no initial or medial form: those entries are 0.
var arabicForms = map[rune][4]rune{
	0x0621: {0xFE80, 0, 0, 0},
	0x0622: {0xFE81, 0xFE82, 0, 0},
	0x0623: {0xFE83, 0xFE84, 0, 0},
	0x0624: {0xFE85, 0xFE86, 0, 0},
	0x0625: {0xFE87, 0xFE88, 0, 0},
	0x0626: {0xFE89, 0xFE8A, 0xFE8B, 0xFE8C},
	0x0627: {0xFE8D, 0xFE8E, 0, 0},
	0x0628: {0xFE8F, 0xFE90, 0xFE91, 0xFE92},
	0x0629: {0xFE93, 0xFE94, 0, 0},
	0x062A: {0xFE95, 0xFE96, 0xFE97, 0xFE98},
	0x062B: {0xFE99, 0xFE9A, 0xFE9B, 0xFE9C},
	0x062C: {0xFE9D, 0xFE9E, 0xFE9F, 0xFEA0},
	0x062D: {0xFEA1, 0xFEA2, 0xFEA3, 0xFEA4},
	0x062E: {0xFEA5, 0xFEA6, 0xFEA7, 0xFEA8},
	0x062F: {0xFEA9, 0xFEAA, 0, 0},
	0x0630: {0xFEAB, 0xFEAC, 0, 0},
	0x0631: {0xFEAD, 0xFEAE, 0, 0},
	0x0632: {0xFEAF, 0xFEB0, 0, 0},
	0x0633: {0xFEB1, 0xFEB2, 0xFEB3, 0xFEB4},
	0x0634: {0xFEB5, 0xFEB6, 0xFEB7, 0xFEB8},
	0x0635: {0xFEB9, 0xFEBA, 0xFEBB, 0xFEBC},
	0x0636: {0xFEBD, 0xFEBE, 0xFEBF, 0xFEC0},
	0x0637: {0xFEC1, 0xFEC2, 0xFEC3, 0xFEC4},
	0x0638: {0xFEC5, 0xFEC6, 0xFEC7, 0xFEC8},
	0x0639: {0xFEC9, 0xFECA, 0xFECB, 0xFECC},
	0x063A: {0xFECD, 0xFECE, 0xFECF, 0xFED0},
	0x0640: {0x0640, 0x0640, 0x0640, 0x0640}, // tatweel joins both ways
	0x0641: {0xFED1, 0xFED2, 0xFED3, 0xFED4},
	0x0642: {0xFED5, 0xFED6, 0xFED7, 0xFED8},
	0x0643: {0xFED9, 0xFEDA, 0xFEDB, 0xFEDC},
	0x0644: {0xFEDD, 0xFEDE, 0xFEDF, 0xFEE0},
	0x0645: {0xFEE1, 0xFEE2, 0xFEE3, 0xFEE4},
	0x0646: {0xFEE5, 0xFEE6, 0xFEE7, 0xFEE8},
	0x0647: {0xFEE9, 0xFEEA, 0xFEEB, 0xFEEC},
	0x0648: {0xFEED, 0xFEEE, 0, 0},
	0x0649: {0xFEEF, 0xFEF0, 0xFBE8, 0xFBE9},
	0x064A: {0xFEF1, 0xFEF2, 0xFEF3, 0xFEF4},
	0x067E: {0xFB56, 0xFB57, 0xFB58, 0xFB59}, // peh
	0x0686: {0xFB7A, 0xFB7B, 0xFB7C, 0xFB7D}, // tcheh
	0x0698: {0xFB8A, 0xFB8B, 0, 0},           // jeh
	0x06A4: {0xFB6A, 0xFB6B, 0xFB6C, 0xFB6D}, // veh
	0x06A9: {0xFB8E, 0xFB8F, 0xFB90, 0xFB91}, // keheh
	0x06AF: {0xFB92, 0xFB93, 0xFB94, 0xFB95}, // gaf
	0x06CC: {0xFBFC, 0xFBFD, 0xFBFE, 0xFBFF}, // farsi yeh
}

// lamAlef maps the alef that follows a lam to the ligature's isolated and
// final forms.
var lamAlef = map[rune][2]rune{
	0x0622: {0xFEF5, 0xFEF6},
	0x0623: {0xFEF7, 0xFEF8},
	0x0625: {0xFEF9, 0xFEFA},
	0x0627: {0xFEFB, 0xFEFC},
}

const (
	isolated = iota
	final
	initial
	medial
)

// isTransparent reports whether r is skipped when deciding how letters
// join: the Arabic harakat and other non-spacing marks.
func isTransparent(r rune) bool { return unicode.Is(unicode.Mn, r) }

// joinsLeft reports whether letter r connects to the letter after it (a
// dual-joining letter).
func joinsLeft(r rune) bool { f, ok := arabicForms[r]; return ok && f[initial] != 0 }

// joinsRight reports whether letter r connects to the letter before it
// (every letter but the non-joining hamza).
func joinsRight(r rune) bool { f, ok := arabicForms[r]; return ok && f[final] != 0 }

// ShapeArabic replaces the Arabic letters of s (in logical order) with
// their contextual presentation forms — isolated, initial, medial, final —
// and lam + alef with the lam-alef ligatures, so that a PDF drawn glyph by
// glyph, with a font that has the presentation forms, shows joined Arabic.
// Marks (harakat) are kept and do not break joining. Other runes are
// unchanged; the result is still in logical order (see Visual).
func ShapeArabic(s string) string {
	rs := []rune(s)
	if !hasArabic(rs) {
		return s
	}
	out := make([]rune, 0, len(rs))
	// prevLetter returns the index of the letter before i, skipping marks.
	prevLetter := func(i int) int {
		for j := i - 1; j >= 0; j-- {
			if !isTransparent(rs[j]) {
				return j
			}
		}
		return -1
	}
	nextLetter := func(i int) int {
		for j := i + 1; j < len(rs); j++ {
			if !isTransparent(rs[j]) {
				return j
			}
		}
		return -1
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		forms, ok := arabicForms[r]
		if !ok {
			out = append(out, r)
			continue
		}
		p := prevLetter(i)
		joinPrev := p >= 0 && joinsLeft(rs[p]) && joinsRight(r)
		n := nextLetter(i)
		if r == 0x0644 && n >= 0 {
			if lig, ok := lamAlef[rs[n]]; ok {
				form := lig[0]
				if joinPrev {
					form = lig[1]
				}
				out = append(out, form)
				out = append(out, rs[i+1:n]...) // marks between lam and alef
				i = n
				continue
			}
		}
		joinNext := forms[initial] != 0 && joinsRight(safeAt(rs, n))
		switch {
		case joinPrev && joinNext:
			out = append(out, forms[medial])
		case joinPrev:
			out = append(out, forms[final])
		case joinNext:
			out = append(out, forms[initial])
		default:
			out = append(out, forms[isolated])
		}
	}
	return string(out)
}

func safeAt(rs []rune, i int) rune {
	if i < 0 || i >= len(rs) {
		return 0
	}
	return rs[i]
}

func hasArabic(rs []rune) bool {
	for _, r := range rs {
		if isRTL(r) {
			return true
		}
	}
	return false
}

// isRTL reports whether r is a strong right-to-left character: a letter of
// the Arabic or Hebrew scripts or of their presentation forms (Arabic-Indic
// digits are numbers, not letters).
func isRTL(r rune) bool {
	return (unicode.Is(unicode.Arabic, r) || unicode.Is(unicode.Hebrew, r)) && unicode.IsLetter(r)
}

// isLTR reports whether r is a strong left-to-right character for layout:
// other letters, and digits (a number keeps its digits left to right even
// inside Arabic text).
func isLTR(r rune) bool {
	return !isRTL(r) && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// mirror maps the paired punctuation that is mirrored in right-to-left
// runs.
var mirror = map[rune]rune{'(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '«': '»', '»': '«', '<': '>', '>': '<', '‹': '›', '›': '‹'}

// Visual returns one line of text (logical order, any mix of scripts) in
// the left-to-right visual order a PDF draws it in: a simplified Unicode
// bidi algorithm (rules P2-P3 for the paragraph direction unless rtl is
// forced, W1 for marks, N1-N2 for neutrals, L2 for reordering) with
// Arabic shaped first and brackets mirrored in right-to-left runs. Marks
// stay after their base letter. A line with no right-to-left letter is
// returned as is.
func Visual(s string, rtl bool) string {
	s = ShapeArabic(s)
	rs := []rune(s)
	if !hasArabic(rs) {
		return s
	}
	// Paragraph level: the first strong character, or forced.
	base := 0
	if rtl {
		base = 1
	} else {
		for _, r := range rs {
			if isRTL(r) {
				base = 1
				break
			} else if isLTR(r) {
				break
			}
		}
	}
	// Strong direction per rune: 1 RTL, 0 LTR, -1 neutral; marks take the
	// direction of their base.
	dir := make([]int, len(rs))
	for i, r := range rs {
		switch {
		case isTransparent(r) && i > 0:
			dir[i] = dir[i-1]
		case isRTL(r):
			dir[i] = 1
		case isLTR(r):
			dir[i] = 0
		default:
			dir[i] = -1
		}
	}
	// Neutrals between two strong runs of one direction take it; others the
	// paragraph's.
	for i := 0; i < len(rs); {
		if dir[i] != -1 {
			i++
			continue
		}
		j := i
		for j < len(rs) && dir[j] == -1 {
			j++
		}
		before, after := base, base
		if i > 0 {
			before = dir[i-1]
		}
		if j < len(rs) {
			after = dir[j]
		}
		d := base
		if before == after {
			d = before
		}
		for k := i; k < j; k++ {
			dir[k] = d
		}
		i = j
	}
	// Embedding levels: in an LTR paragraph RTL runs are 1; in an RTL
	// paragraph RTL runs are 1 and LTR runs (words, numbers) 2.
	lv := make([]int, len(rs))
	for i := range rs {
		switch {
		case base == 0 && dir[i] == 1:
			lv[i] = 1
		case base == 1 && dir[i] == 0:
			lv[i] = 2
		default:
			lv[i] = base
		}
	}
	// Keep each mark with its base: reorder clusters, not runes.
	type cluster struct {
		runes []rune
		level int
	}
	var cl []cluster
	for i, r := range rs {
		if isTransparent(r) && len(cl) > 0 {
			cl[len(cl)-1].runes = append(cl[len(cl)-1].runes, r)
			continue
		}
		if lv[i]%2 == 1 {
			if m, ok := mirror[r]; ok {
				r = m
			}
		}
		cl = append(cl, cluster{runes: []rune{r}, level: lv[i]})
	}
	// L2: from the highest level down to the lowest odd one, reverse every
	// maximal sequence at that level or above.
	for level := 2; level >= 1; level-- {
		for i := 0; i < len(cl); {
			if cl[i].level < level {
				i++
				continue
			}
			j := i
			for j < len(cl) && cl[j].level >= level {
				j++
			}
			for a, b := i, j-1; a < b; a, b = a+1, b-1 {
				cl[a], cl[b] = cl[b], cl[a]
			}
			i = j
		}
	}
	var b strings.Builder
	for _, c := range cl {
		b.WriteString(string(c.runes))
	}
	return b.String()
}

// PDFText prepares a field for drawing in a PDF: Unicode NFC (so that a
// decomposed accent renders as one glyph), line breaks and tabs turned
// into spaces, characters the fonts cannot draw replaced (FontSafe: an
// emoji becomes U+FFFD, in logical order so that a ZWJ sequence stays one
// cluster), and right-to-left text shaped and put in visual order. The
// result holds only runes the embedded fonts draw.
func PDFText(s string) string {
	s = norm.NFC.String(s)
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', '\t', '\v', '\f':
			return ' '
		}
		return r
	}, s)
	return Visual(FontSafe(strings.TrimSpace(s)), false)
}

// PDFTextRTL is PDFText for a paragraph that is right-to-left by nature
// (an Arabic sentence that starts with a Latin word or a number).
func PDFTextRTL(s string) string {
	s = strings.TrimSpace(norm.NFC.String(s))
	return Visual(FontSafe(s), true)
}
