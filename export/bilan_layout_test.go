package export_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"prodays"
	"prodays/export"
	"prodays/internal/dataset"
	"prodays/internal/dbtest"
	"prodays/report"
)

// The bilan PDF of the full edition's figures (expected.json): no number
// breaks across lines, two full pages — the text and the per-day table
// and chart on page 1, the per-region table with its chart on page 2.
func TestBilanPDFLayoutFullEdition(t *testing.T) {
	var b report.Figures
	dataset.Expected(t, dataset.Full, &b)
	b.Edition = &prodays.Edition{ID: 1, Name: "Pro'Days 2026", StartDate: "2026-03-21", EndDate: "2026-03-26"}
	db := dbtest.Open(t)
	var buf bytes.Buffer
	if err := export.WriteBilanPDF(context.Background(), db, &buf, &b, now); err != nil {
		t.Fatal(err)
	}
	pages := pdfPages(t, "bilan-full.pdf", buf.Bytes())
	if len(pages) != 2 {
		t.Fatalf("pages: got %d, want 2", len(pages))
	}
	raw := strings.Join(pages, "\n")
	flatAll := flat(raw)
	for _, n := range []int{b.Beneficiaries, b.MeetingParticipations, b.VisitParticipations, b.DistinctTrainees, b.DistinctTraineesMeetings, b.DistinctTraineesVisits} {
		s := frenchThousands(n)
		// A number broken across lines is whole only once the white space
		// is flattened.
		if inLines, inFlat := strings.Count(raw, s), strings.Count(flatAll, s); inLines != inFlat || inLines == 0 {
			t.Errorf("%q: %d times on one line, %d in the flattened text", s, inLines, inFlat)
		}
	}
	p1, p2 := flat(pages[0]), flat(pages[1])
	for _, want := range []string{"COMMUNIQUÉ — BILAN", "Les visites d'entreprises", "Participations par jour", "jeudi 26 mars 2026"} {
		if !strings.Contains(p1, want) {
			t.Errorf("page 1 lacks %q:\n%s", want, pages[0])
		}
	}
	if strings.Contains(p1, "Participations par région") {
		t.Errorf("page 1 holds the start of the per-region block:\n%s", pages[0])
	}
	// Page 2: the per-region table and its chart (each region twice).
	if !strings.Contains(p2, "Participations par région") || strings.Count(p2, "Dakhla-Oued Ed-Dahab") != 2 {
		t.Errorf("page 2 is not the per-region table with its chart:\n%s", pages[1])
	}
	// Chart labels at 9 pt at least: pdftotext -bbox gives a word's box,
	// DejaVu Sans's ascent + descent being 1.164 em. The region's name is
	// in the table (8 pt) and in the chart.
	path := filepath.Join(t.TempDir(), "bilan.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-bbox", "-f", "2", "-l", "2", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v: %s", err, out)
	}
	box := regexp.MustCompile(`yMin="([0-9.]+)" xMax="[0-9.]+" yMax="([0-9.]+)">Dakhla-Oued<`)
	var sizes []float64
	for _, m := range box.FindAllStringSubmatch(string(out), -1) {
		y0, _ := strconv.ParseFloat(m[1], 64)
		y1, _ := strconv.ParseFloat(m[2], 64)
		sizes = append(sizes, (y1-y0)/1.164)
	}
	if len(sizes) != 2 || sizes[1] < 8.95 {
		t.Errorf("chart label sizes (pt): %.2f, want the chart's (second) at 9 pt at least", sizes)
	}
}

// frenchThousands is 45128 → "45 128" (as pdfText reads U+202F, NFKC).
func frenchThousands(n int) string {
	s := strconv.Itoa(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ' ')
		}
		out = append(out, s[i])
	}
	return string(out)
}
