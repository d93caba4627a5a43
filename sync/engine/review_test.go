package engine_test

import (
	"context"
	"testing"
	"time"

	"prodays"
	"prodays/internal/synctest"
	"prodays/sync/engine"
)

// TestResolveQuarantined: a refused check-in is counted present by the
// supervisor of the activity's region (override, change log, audit) and
// leaves the default list; a second decision is already_decided; another
// region's supervisor is refused.
func TestResolveQuarantined(t *testing.T) {
	e, ctx := mustEngine(t), context.Background()
	staff := synctest.Principal("staff1", "dev-a")
	sup1 := synctest.Principal("sup1", "s1")   // RSK: staff1's region
	sup3 := synctest.Principal("sup3", "s3")   // CS: B1's region
	admin := synctest.Principal("admin", "ad") // all
	ph := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
	tr := synctest.TraineesE3[0]
	refused, unknown := ph.CheckIn("B1", "trainee", tr), ph.CheckIn("Z9", "trainee", tr)
	if got := statuses(push(t, e, staff, refused, unknown)); got[0] != "rejected:out_of_scope" || got[1] != "rejected:unknown_activity" {
		t.Fatalf("push: %v", got)
	}
	if err := e.ResolveQuarantined(ctx, sup1, refused.ID, engine.QuarantineCountPresent, "sheet"); prodays.ErrorCode(err) != prodays.EForbidden {
		t.Fatalf("count_present by the pushing user's supervisor (B1 is CS): %v", err)
	}
	if err := e.ResolveQuarantined(ctx, sup3, refused.ID, engine.QuarantineCountPresent, "on the signed sheet"); err != nil {
		t.Fatal(err)
	}
	if got := attendance(t, e, "B1", tr); !got.present {
		t.Fatalf("counted present: %+v", got)
	}
	if err := e.ResolveQuarantined(ctx, admin, refused.ID, engine.QuarantineAcknowledge, ""); prodays.ErrorCode(err) != engine.EAlreadyDecided {
		t.Fatalf("second decision: %v", err)
	}
	if err := e.ResolveQuarantined(ctx, sup1, unknown.ID, engine.QuarantineAcknowledge, "typo"); err != nil {
		t.Fatal(err)
	}
	if err := e.ResolveQuarantined(ctx, sup1, "nope", engine.QuarantineAcknowledge, ""); prodays.ErrorCode(err) != prodays.ENotFound {
		t.Fatalf("unknown: %v", err)
	}
	if left, _ := e.ListQuarantine(ctx, admin, false); len(left) != 0 {
		t.Fatalf("still listed: %+v", left)
	}
	all, _ := e.ListQuarantine(ctx, admin, true)
	if len(all) != 2 {
		t.Fatalf("all: %+v", all)
	}
	for _, m := range all {
		if want := map[string]string{refused.ID: "counted_present|sup3", unknown.ID: "acknowledged|sup1"}[m.ID]; m.Decision+"|"+m.DecidedBy != want {
			t.Errorf("%s: %s|%s, want %s", m.ID, m.Decision, m.DecidedBy, want)
		}
	}
	var changes, audits int
	// The counted presence is in the change sequence (its row's seq,
	// migration 00034), so phones pull it.
	e.DB.Read.QueryRow(`SELECT count(*) FROM attendance WHERE activity_id = 'B1' AND person_kind = 'trainee' AND person_id = ? AND seq > 0`, tr).Scan(&changes)
	e.DB.Read.QueryRow(`SELECT count(*) FROM audit_log WHERE action IN ('review.quarantine_counted_present', 'review.quarantine_acknowledged', 'attendance.override')`).Scan(&audits)
	if changes != 1 || audits != 3 {
		t.Errorf("change log %d, audit %d", changes, audits)
	}
}

// TestAcknowledgeSkew: the skew mark leaves the queue, the offset stays.
func TestAcknowledgeSkew(t *testing.T) {
	e, ctx := mustEngine(t), context.Background()
	staff := synctest.Principal("staff1", "dev-k")
	ph := synctest.NewPhone("dev-k", eventNow.Add(time.Hour))
	if _, err := e.Push(ctx, staff, synctest.Request(t, "dev-k", eventNow.Add(time.Hour), ph.CheckIn("A1", "trainee", synctest.TraineesE1[0]))); err != nil {
		t.Fatal(err)
	}
	sup1, sup3 := synctest.Principal("sup1", "s1"), synctest.Principal("sup3", "s3")
	if err := e.AcknowledgeSkew(ctx, sup3, "dev-k", ""); prodays.ErrorCode(err) != prodays.EForbidden {
		t.Fatalf("other region: %v", err)
	}
	if err := e.AcknowledgeSkew(ctx, sup1, "dev-k", "clock wrong"); err != nil {
		t.Fatal(err)
	}
	if err := e.AcknowledgeSkew(ctx, sup1, "dev-k", ""); prodays.ErrorCode(err) != engine.EAlreadyDecided {
		t.Fatalf("again: %v", err)
	}
	if err := e.AcknowledgeSkew(ctx, sup1, "nope", ""); prodays.ErrorCode(err) != prodays.ENotFound {
		t.Fatalf("unknown: %v", err)
	}
	ds, _ := e.ListDevices(ctx, sup1)
	for _, d := range ds {
		if d.ID == "dev-k" && (!d.ClockSkewed || d.ClockOffsetMS == 0 || d.SkewAcknowledgedBy != "sup1") {
			t.Errorf("device: %+v", d)
		}
	}
}
