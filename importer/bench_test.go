package importer_test

import (
	"context"
	"path/filepath"
	"testing"

	"prodays/importer"
	"prodays/internal/dataset"
	"prodays/internal/dbtest"
)

// BenchmarkImportTrainees imports the full edition's trainees.csv (47,651
// rows) into a fresh database that already holds its establishments.
func BenchmarkImportTrainees(b *testing.B) {
	trainees := filepath.Join(dataset.Dir(b, dataset.Full), "trainees.csv")
	for b.Loop() {
		b.StopTimer()
		db := dbtest.Open(b)
		dataset.Import(b, db, dataset.Full, "establishments.csv")
		b.StartTimer()
		rep, err := importer.ImportFile(context.Background(), db, trainees, "", importer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Counts["trainees"].Inserted != 47651 {
			b.Fatalf("inserted %d", rep.Counts["trainees"].Inserted)
		}
	}
}
