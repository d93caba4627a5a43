package store_test

import (
	"os"
	"regexp"
	"testing"

	"prodays/sync/protocol"
)

// TestAttendanceIDInSQL checks the one place SQL spells an attendance pull
// id (migration 00034 matches presences to their change-log entries)
// against protocol.AttendanceID, the definition, on ids that contain the
// separator.
func TestAttendanceIDInSQL(t *testing.T) {
	src, err := os.ReadFile("migrations/00034_attendance_seq.sql")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`c\.entity_id = (attendance\.activity_id[^;]*person_id)`).FindSubmatch(src)
	if m == nil {
		t.Fatal("migration 00034 no longer builds an attendance id: update this test")
	}
	expr := string(m[1])
	db, ctx := openDB(t)
	for _, tc := range []struct{ activity, kind, person string }{
		{"A1", "trainee", "T0042"},
		{"2026:R:01", "speaker", "S:7"},
	} {
		var got string
		q := `SELECT ` + expr + ` FROM (SELECT ? AS activity_id, ? AS person_kind, ? AS person_id) AS attendance`
		if err := db.Read.QueryRowContext(ctx, q, tc.activity, tc.kind, tc.person).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := protocol.AttendanceID(tc.activity, tc.kind, tc.person); got != want {
			t.Errorf("SQL %s gives %q, want %q", expr, got, want)
		}
	}
}
