package export_test

import (
	"bytes"
	"context"
	"prodays/internal/dbtest"
	"testing"

	"github.com/xuri/excelize/v2"

	"prodays"
	"prodays/export"
	"prodays/internal/fixture"
	"prodays/report"
)

func TestBadgesPDF(t *testing.T) {
	db := nastyDB(t)
	ctx := context.Background()
	var buf bytes.Buffer
	if err := export.WriteBadgesPDF(ctx, db, &buf, export.BadgeFilter{Scope: prodays.AdminScope(), EstablishmentCode: "E2"}, now); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, "badges-E2.pdf", buf.Bytes())
	mustContain(t, text, "PRO'DAYS — STAGIAIRE", fixture.ArabicLastName, fixture.ArabicFirstName, "Aït Taleb", "Zoé",
		"Matricule N1", "PD1:T:N1", "PD1:T:T3", "Chraibi", "ISTA Anfa", "=HYPERLINK")

	buf.Reset()
	if err := export.WriteBadgesPDF(ctx, db, &buf, export.BadgeFilter{Scope: prodays.AdminScope(), EstablishmentCode: "E2", Group: "DEV101"}, now); err != nil {
		t.Fatal(err)
	}
	text = pdfText(t, "badges-E2-DEV101.pdf", buf.Bytes())
	mustContain(t, text, "PD1:T:N1")
	if bytes.Contains([]byte(text), []byte("PD1:T:T3")) {
		t.Error("group filter ignored")
	}

	buf.Reset()
	if err := export.WriteBadgesPDF(ctx, db, &buf, export.BadgeFilter{Scope: prodays.AdminScope(), Speakers: true, ActivityID: "N1"}, now); err != nil {
		t.Fatal(err)
	}
	mustContain(t, pdfText(t, "badges-speakers.pdf", buf.Bytes()), "INTERVENANT", "PD1:S:S4", "العلوي", "محمد", "PD1:S:S1")

	for _, f := range []export.BadgeFilter{{Scope: prodays.AdminScope(), EstablishmentCode: "NOPE"}, {Scope: prodays.AdminScope(), Speakers: true, ActivityID: "NOPE"}, {Scope: prodays.AdminScope(), EstablishmentCode: "E2", Group: "NOPE"}} {
		if got := prodays.ErrorCode(export.WriteBadgesPDF(ctx, db, &bytes.Buffer{}, f, now)); got != prodays.ENotFound {
			t.Errorf("%+v: got %q, want not_found", f, got)
		}
	}
}

func TestCertificatePDF(t *testing.T) {
	db := nastyDB(t)
	ctx := context.Background()
	var buf bytes.Buffer
	if err := export.WriteCertificatePDF(ctx, db, &buf, prodays.AdminScope(), "T3", now); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, "certificate-T3.pdf", buf.Bytes())
	mustContain(t, text, "ATTESTATION DE PARTICIPATION", "شهادة المشاركة", "Omar Chraibi", "matricule T3",
		"m1", "m2", "v1", "v2", "Renault", "Total : 4 activité(s).", "مدير المؤسسة")

	buf.Reset()
	if err := export.WriteCertificatePDF(ctx, db, &buf, prodays.AdminScope(), fixture.ArabicTrainee, now); err != nil {
		t.Fatal(err)
	}
	mustContain(t, pdfText(t, "certificate-N1.pdf", buf.Bytes()), fixture.ArabicFirstName+" "+fixture.ArabicLastName, "Total : 1 activité(s).")

	if got := prodays.ErrorCode(export.WriteCertificatePDF(ctx, db, &bytes.Buffer{}, prodays.AdminScope(), "NOPE", now)); got != prodays.ENotFound {
		t.Errorf("unknown trainee: got %q", got)
	}
}

func TestBilanDocuments(t *testing.T) {
	db := dbtest.Open(t)
	fixture.Base(t, db)
	ctx := context.Background()
	b, err := report.Bilan(ctx, db, report.Filter{Scope: prodays.AdminScope(), EditionID: ed1})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := export.WriteBilanPDF(ctx, db, &buf, b, now); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, "bilan.pdf", buf.Bytes())
	mustContain(t, text, "Bilan — Pro'Days 2026", "9 bénéficiaires : 5 participations", "et 4 participations",
		"3 intervenants, issus de 2 organisations", "2 rencontres se sont tenues sur les 3 programmées",
		"2 visites se sont tenues sur les 3 programmées, dans 1 entreprises", "Tanger-Tétouan-Al Hoceïma", "samedi 21 mars 2026")

	buf.Reset()
	if err := export.WriteBilanXLSX(ctx, db, &buf, b); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows("Bilan")
	got := map[string]string{}
	for _, r := range rows {
		if len(r) == 3 {
			got[r[0]] = r[2]
		}
	}
	for k, v := range map[string]string{"beneficiaries": "9", "meeting_participations": "5", "visits_held": "2", "visit_establishments": "3", "edition": "Pro'Days 2026"} {
		if got[k] != v {
			t.Errorf("Bilan %s: got %q, want %q", k, got[k], v)
		}
	}
	reg, _ := x.GetRows("Par région")
	if len(reg) != 13 || reg[1][0] != "TTA" || reg[1][4] != "5" {
		t.Errorf("Par région: %v", reg)
	}
	days, _ := x.GetRows("Par jour")
	if len(days) != 4 || days[1][0] != "2026-03-21" || days[1][4] != "5" {
		t.Errorf("Par jour: %v", days)
	}
}
