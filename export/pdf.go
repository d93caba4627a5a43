package export

import (
	_ "embed"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"
)

// The embedded fonts: DejaVu Sans (Latin with every accent, Arabic with
// its presentation forms), under the license in fonts/LICENSE-DejaVu.txt.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

const (
	fontFamily = "dejavu"
	pageW      = 210.0 // A4 portrait, mm
	pageH      = 297.0
	margin     = 12.0
)

// doc wraps an fpdf document with the house layout: A4, DejaVu Sans, a
// footer with the page number and the time of the export.
type doc struct {
	*fpdf.Fpdf
	generated string
	// The section (an activity of a day's sheets) numbers its own pages:
	// its label, the file page before its first, the alias of its count.
	section      string
	sectionStart int
	sectionAlias string
	sections     int
}

// newDoc starts an A4 portrait document titled title. Page breaks are made
// by the callers (tables repeat their header on each page).
func newDoc(title string, now time.Time) *doc {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCompression(true)
	p.AddUTF8FontFromBytes(fontFamily, "", fontRegular)
	p.AddUTF8FontFromBytes(fontFamily, "B", fontBold)
	p.SetMargins(margin, margin, margin)
	p.SetAutoPageBreak(false, margin)
	p.SetTitle(FontSafe(title), true)
	p.SetCreator("prodays", true)
	p.AliasNbPages("{nb}")
	d := &doc{Fpdf: p, generated: now.In(Casablanca).Format("02/01/2006 15:04")}
	p.SetFooterFunc(func() {
		p.SetY(pageH - 9)
		p.SetFont(fontFamily, "", 7)
		p.SetTextColor(120, 120, 120)
		page := fmt.Sprintf("page %d/{nb}", p.PageNo())
		if d.sectionAlias != "" {
			page = fmt.Sprintf("%s : page %d/%s (fichier %d/{nb})", d.section, p.PageNo()-d.sectionStart, d.sectionAlias, p.PageNo())
		}
		d.CellFormat(0, 4, PDFText(fmt.Sprintf("Pro'Days — %s — édité le %s — %s", title, d.generated, page)), "", 0, "C", false, 0, "")
		p.SetTextColor(0, 0, 0)
	})
	return d
}

// startSection starts, on the page just added, a section named label
// whose pages the footer numbers "label : page 2/3" (its own count),
// ending the one before.
func (d *doc) startSection(label string) {
	d.endSection(d.PageNo() - 1)
	d.sections++
	d.section, d.sectionStart, d.sectionAlias = label, d.PageNo()-1, fmt.Sprintf("{s%d}", d.sections)
}

// endSection fixes the page count of the current section, whose last
// page is last (fpdf replaces the alias when the document is written).
func (d *doc) endSection(last int) {
	if d.sectionAlias != "" {
		d.RegisterAlias(d.sectionAlias, fmt.Sprint(last-d.sectionStart))
	}
}

// The drawing and measuring methods of fpdf that take text are shadowed
// here, so that every string that reaches the page goes through FontSafe
// (callers prepare text with PDFText, which already did; this is the
// guard for any that did not: fpdf panics on a rune above U+FFFF).

// CellFormat is fpdf's CellFormat with txt made FontSafe.
func (d *doc) CellFormat(w, h float64, txt, border string, ln int, align string, fill bool, link int, linkStr string) {
	d.Fpdf.CellFormat(w, h, FontSafe(txt), border, ln, align, fill, link, linkStr)
}

// Cell is fpdf's Cell with txt made FontSafe.
func (d *doc) Cell(w, h float64, txt string) { d.Fpdf.Cell(w, h, FontSafe(txt)) }

// Text is fpdf's Text with txt made FontSafe.
func (d *doc) Text(x, y float64, txt string) { d.Fpdf.Text(x, y, FontSafe(txt)) }

// MultiCell is fpdf's MultiCell with txt made FontSafe.
func (d *doc) MultiCell(w, h float64, txt, border, align string, fill bool) {
	d.Fpdf.MultiCell(w, h, FontSafe(txt), border, align, fill)
}

// Write is fpdf's Write with txt made FontSafe.
func (d *doc) Write(h float64, txt string) { d.Fpdf.Write(h, FontSafe(txt)) }

// GetStringWidth is fpdf's GetStringWidth (mm, current font) of s made
// FontSafe: fpdf's own panics on U+10000.
func (d *doc) GetStringWidth(s string) float64 { return d.Fpdf.GetStringWidth(FontSafe(s)) }

// font sets the font: style "" or "B", size in points.
func (d *doc) font(style string, size float64) { d.SetFont(fontFamily, style, size) }

// fit returns s prepared for drawing (PDFText) and shortened with "…" so
// that it fits in w mm with the current font.
func (d *doc) fit(s string, w float64) string {
	s = PDFText(s)
	if d.GetStringWidth(s) <= w {
		return s
	}
	rs := []rune(s)
	for len(rs) > 0 && d.GetStringWidth(string(rs)+"…") > w {
		rs = rs[:len(rs)-1]
	}
	return string(rs) + "…"
}

// cell draws s (prepared and fitted) in a w×h cell.
func (d *doc) cell(w, h float64, s, border, align string, fill bool) {
	if w == 0 {
		w = pageW - margin - d.GetX()
	}
	d.CellFormat(w, h, d.fit(s, w-1.5), border, 0, align, fill, 0, "")
}

// needs starts a new page when fewer than h mm are left above the bottom
// margin, and reports whether it did.
func (d *doc) needs(h float64) bool {
	if d.GetY()+h > pageH-margin-8 {
		d.AddPage()
		return true
	}
	return false
}

// column is one column of a table: header, width (mm), alignment.
type column struct {
	head  string
	width float64
	align string
}

// tableHeader draws the header row of cols.
func (d *doc) tableHeader(cols []column) {
	d.font("B", 8)
	d.SetFillColor(220, 230, 241)
	for _, c := range cols {
		d.cell(c.width, 6, c.head, "1", "C", true)
	}
	d.Ln(-1)
	d.font("", 8)
}

// tableRow draws one row, starting a new page (with the header again) when
// the page is full.
func (d *doc) tableRow(cols []column, vals ...string) {
	if d.needs(5.5) {
		d.tableHeader(cols)
	}
	for i, c := range cols {
		d.cell(c.width, 5.5, vals[i], "1", c.align, false)
	}
	d.Ln(-1)
}

// tableRowWrapped draws one row whose cells wrap on as many lines as
// their text needs (by words; a word longer than its cell is cut), all
// cells of the row as tall as the tallest, starting a new page (with the
// header again) when the row does not fit.
func (d *doc) tableRowWrapped(cols []column, vals ...string) {
	const lineH = 4.5
	cells := make([][]string, len(cols))
	n := 1
	for i, c := range cols {
		for _, l := range d.wrapLines(vals[i], c.width-1.5, false) {
			cells[i] = append(cells[i], d.fit(l, c.width-1.5))
		}
		n = max(n, len(cells[i]))
	}
	h := float64(n)*lineH + 1
	if d.needs(h) {
		d.tableHeader(cols)
	}
	x, y := d.GetX(), d.GetY()
	for i, c := range cols {
		d.Rect(x, y, c.width, h, "D")
		for j, l := range cells[i] {
			d.SetXY(x, y+0.5+float64(j)*lineH)
			d.CellFormat(c.width, lineH, l, "", 0, c.align, false, 0, "")
		}
		x += c.width
	}
	d.SetXY(margin, y+h)
}

// wrapLines breaks s (logical order) into lines of at most w mm with the
// current font, by words; each line is returned prepared for drawing, so
// that an Arabic paragraph keeps its first words on its first line.
func (d *doc) wrapLines(s string, w float64, rtl bool) []string {
	prep := func(t string) string {
		if rtl {
			return PDFTextRTL(t)
		}
		return PDFText(t)
	}
	var lines []string
	var cur []string
	for _, word := range strings.FieldsFunc(s, breakable) {
		try := strings.Join(append(cur, word), " ")
		if len(cur) > 0 && d.GetStringWidth(prep(try)) > w {
			lines = append(lines, prep(strings.Join(cur, " ")))
			cur = []string{word}
			continue
		}
		cur = append(cur, word)
	}
	if len(cur) > 0 {
		lines = append(lines, prep(strings.Join(cur, " ")))
	}
	return lines
}

// paragraph draws s wrapped in w mm, aligned "L", "C" or "R" (right to
// left text: rtl and "R").
func (d *doc) paragraph(s string, w, lineH float64, align string, rtl bool) {
	x := d.GetX()
	for _, line := range d.wrapLines(s, w, rtl) {
		d.SetX(x)
		d.CellFormat(w, lineH, line, "", 1, align, false, 0, "")
	}
}

// qr draws the QR code of payload as a size×size mm square of filled
// rectangles (vector: sharp at any zoom, no image to embed) at x, y.
func (d *doc) qr(payload string, x, y, size float64) error {
	q, err := qrcode.New(payload, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("qr code: %w", err)
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	n := float64(len(bm))
	m := size / n
	d.SetFillColor(0, 0, 0)
	for r, row := range bm {
		for c := 0; c < len(row); {
			if !row[c] {
				c++
				continue
			}
			start := c
			for c < len(row) && row[c] {
				c++
			}
			d.Rect(x+float64(start)*m, y+float64(r)*m, float64(c-start)*m+0.01, m+0.01, "F")
		}
	}
	return nil
}

// output writes the document to w, with the first error fpdf met.
func (d *doc) output(w io.Writer) error {
	if err := d.Error(); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	return d.Output(w)
}

// hhmm renders a stored time as Casablanca local "15:04"; "" for none.
func hhmm(stored string) string {
	t, err := time.Parse(time.RFC3339Nano, stored)
	if err != nil {
		return ""
	}
	return t.In(Casablanca).Format("15:04")
}

// frenchDate renders YYYY-MM-DD as "samedi 21 mars 2026".
func frenchDate(date string) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	days := []string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	months := []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	return fmt.Sprintf("%s %d %s %d", days[t.Weekday()], t.Day(), months[t.Month()-1], t.Year())
}

// thousands renders n the French way, its groups joined by a narrow
// no-break space (U+202F, in DejaVu Sans): 45 128, which wrapLines never
// breaks.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202F')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// breakable reports whether a line may break at r: white space except the
// no-break spaces (U+00A0, U+2007, U+202F).
func breakable(r rune) bool {
	switch r {
	case '\u00A0', '\u2007', '\u202F':
		return false
	}
	return unicode.IsSpace(r)
}

// bandedPage adds a page with the blue band across its top and returns
// the width between the margins (mm).
func (d *doc) bandedPage() (full float64) {
	d.AddPage()
	d.SetFillColor(31, 73, 125)
	d.Rect(0, 0, pageW, 6, "F")
	return pageW - 2*margin
}
