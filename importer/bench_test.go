package importer_test

import (
	"context"
	"path/filepath"
	"prodays/internal/dbtest"
	"testing"

	"prodays/importer"
	"prodays/internal/shared"
)

// BenchmarkImportTrainees imports the full edition's trainees.csv (47,651
// rows) into a fresh database that already holds its establishments.
func BenchmarkImportTrainees(b *testing.B) {
	dir := shared.Dir(b, "datasets/prodays-2026")
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		db := dbtest.Open(b)
		if _, err := importer.ImportFile(ctx, db, filepath.Join(dir, "establishments.csv"), "", importer.Options{}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := importer.ImportFile(ctx, db, filepath.Join(dir, "trainees.csv"), "", importer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Counts["trainees"].Inserted != 47651 {
			b.Fatalf("inserted %d", rep.Counts["trainees"].Inserted)
		}
	}
}
