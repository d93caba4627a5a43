package store_test

import (
	"database/sql"
	"errors"
	"slices"
	"testing"

	"prodays/store"
)

func TestQuery(t *testing.T) {
	db, ctx := openDB(t)
	if _, err := db.Write.ExecContext(ctx, `CREATE TABLE q (id TEXT, n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.ExecContext(ctx, `INSERT INTO q VALUES ('a', 1), ('b', 2), ('c', 3)`); err != nil {
		t.Fatal(err)
	}
	type row struct {
		id string
		n  int
	}
	scan := func(s store.Scanner) (row, error) {
		var r row
		err := s.Scan(&r.id, &r.n)
		return r, err
	}

	t.Run("rows in order", func(t *testing.T) {
		got, err := store.Query(ctx, db.Read, scan, `SELECT id, n FROM q WHERE n >= ? ORDER BY id`, 2)
		if err != nil {
			t.Fatal(err)
		}
		if want := []row{{"b", 2}, {"c", 3}}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("no rows", func(t *testing.T) {
		got, err := store.Query(ctx, db.Read, scan, `SELECT id, n FROM q WHERE n > 9`)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("got %#v, %v, want an empty slice", got, err)
		}
	})
	t.Run("query error", func(t *testing.T) {
		if _, err := store.Query(ctx, db.Read, scan, `SELECT id, n FROM missing`); err == nil {
			t.Error("got no error for a missing table")
		}
	})
	t.Run("scan error", func(t *testing.T) {
		if _, err := store.Query(ctx, db.Read, scan, `SELECT id FROM q`); err == nil {
			t.Error("got no error for a scan of too few columns")
		}
	})
	t.Run("strings", func(t *testing.T) {
		got, err := store.Strings(ctx, db.Read, `SELECT id FROM q ORDER BY id DESC`)
		if want := []string{"c", "b", "a"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("got %v, %v, want %v", got, err, want)
		}
	})
	t.Run("row", func(t *testing.T) {
		got, err := store.QueryRow(ctx, db.Read, scan, `SELECT id, n FROM q WHERE id = ?`, "b")
		if want := (row{"b", 2}); err != nil || got != want {
			t.Errorf("got %v, %v, want %v", got, err, want)
		}
		if _, err := store.QueryRow(ctx, db.Read, scan, `SELECT id, n FROM q WHERE id = ?`, "z"); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("got %v, want sql.ErrNoRows", err)
		}
	})
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "2026-03-01T08:00:00.000Z", want: "2026-03-01T08:00:00.000Z"},
		{in: "2026-03-01T09:00:00.5+01:00", want: "2026-03-01T08:00:00.500Z"},
		{in: "", want: "0001-01-01T00:00:00.000Z"},
		{in: "yesterday", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := store.ParseTime(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Errorf("got %v, want an error", got)
				}
				return
			}
			if err != nil || store.FormatTime(got) != tc.want {
				t.Errorf("got %s, %v, want %s", store.FormatTime(got), err, tc.want)
			}
		})
	}
}
