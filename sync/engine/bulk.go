package engine

import (
	"database/sql"
	"encoding/json"
	"strings"
)

// rowChunks are the row counts of the multi-row statements of insertRows:
// a few fixed sizes, so that each has one text and stays prepared (4 and
// 2: a day's-end batch of 15 takes 4 statements instead of 8).
var rowChunks = []int{128, 32, 8, 4, 2, 1}

// insertRows runs prefix + n copies of row (joined by commas) + suffix
// over args (width values a row) in statements of rowChunks rows (at most
// 128 × width host parameters, far under SQLite's 32,766), in order. With
// each, the statements are queries (RETURNING) and each scans every row.
func (t *txc) insertRows(prefix, row, suffix string, width int, args []any, each func(*sql.Rows) error) error {
	for len(args) > 0 {
		n := len(args) / width
		size := rowChunks[len(rowChunks)-1]
		for _, c := range rowChunks {
			if c <= n {
				size = c
				break
			}
		}
		q := prefix + strings.TrimSuffix(strings.Repeat(row+",", size), ",") + suffix
		chunk := args[:size*width]
		args = args[size*width:]
		if each == nil {
			if _, err := t.exec(q, chunk...); err != nil {
				return err
			}
			continue
		}
		if err := t.each(each, q, chunk...); err != nil {
			return err
		}
	}
	return nil
}

func chunks(xs []any, n int) [][]any {
	var out [][]any
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}

// jsonList is xs as a JSON array: a list bound as one parameter and read
// with json_each (one bind instead of one per value).
func jsonList(xs []any) string {
	bs, err := json.Marshal(xs)
	if err != nil {
		panic(err) // strings and integers only
	}
	return string(bs)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
