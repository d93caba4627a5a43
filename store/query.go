package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Querier is what a *sql.Tx, *sql.DB and *sql.Conn have in common for
// reading: Query and QueryRow accept any of them.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Scanner is what a *sql.Rows and a *sql.Row have in common, so that one
// row scanner per table serves both Query and QueryRow.
type Scanner interface {
	Scan(dest ...any) error
}

// Query runs query with args on q and returns one T per row, in the
// order of the rows, made by scan. Without rows it returns an empty,
// non-nil slice (a JSON list renders as [], not null). The first error of
// the query, of scan or of the iteration is returned, and the rows are
// always closed.
func Query[T any](ctx context.Context, q Querier, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// QueryRow runs query with args on q and returns the one row made by
// scan. A query without rows returns sql.ErrNoRows (wrapped by scan if
// scan wraps it): callers map it to their not-found error.
func QueryRow[T any](ctx context.Context, q Querier, scan func(Scanner) (T, error), query string, args ...any) (T, error) {
	return scan(q.QueryRowContext(ctx, query, args...))
}

// oneRow returns v, read from the one row of a query that ended with
// err: notFound when the query had no row, any other error wrapped with
// what (and the zero T).
func oneRow[T any](v T, err, notFound error, what string) (T, error) {
	var zero T
	if errors.Is(err, sql.ErrNoRows) {
		return zero, notFound
	} else if err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// ScanOne is a scanner for a single column of type T (a string, an int64,
// a sql.NullString…): Query(ctx, q, ScanOne[string], "SELECT id …").
func ScanOne[T any](s Scanner) (T, error) {
	var v T
	err := s.Scan(&v)
	return v, err
}

// Strings is Query for a single text column: the ids, codes or names of
// query, in order.
func Strings(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	return Query(ctx, q, ScanOne[string], query, args...)
}
