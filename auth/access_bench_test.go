package auth_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"prodays/api"
	"prodays/internal/testenv"
)

// quiet is a test server without access log lines in the benchmark output.
var quiet = testenv.Options{Configure: func(s *api.Server) { s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) }}

// BenchmarkVerifyAccess is the cost of authenticating one request:
// Tokens.Parse and the database read of VerifyAccess, on a real SQLite
// file holding 2,000 devices with 10 sessions each. cpu-µs/op is the
// process's CPU time (user and system) per call, steadier than the wall
// time on a shared machine. BenchmarkParseAccess is Parse alone: what an
// in-process cache of the account state could at best bring VerifyAccess
// down to.
func BenchmarkVerifyAccess(b *testing.B) {
	env := testenv.New(b, quiet)
	testenv.CreateUser(b, env.DB, "a.admin", "admin", "", "")
	err := env.DB.WithTx(context.Background(), func(tx *sql.Tx) error {
		for i := 0; i < 2000; i++ {
			dev := fmt.Sprintf("dev-%04d", i)
			if _, err := tx.Exec(`INSERT INTO devices (id, username, first_seen_at, last_seen_at) VALUES (?, 'a.admin', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`, dev); err != nil {
				return err
			}
			for j := 0; j < 10; j++ {
				id := fmt.Sprintf("%s-%d", dev, j)
				if _, err := tx.Exec(`INSERT INTO refresh_tokens (id, family_id, username, device_id, token_hash, created_at, expires_at) VALUES (?, ?, 'a.admin', ?, ?, '2026-01-01T00:00:00Z', '2099-01-01T00:00:00Z')`,
					id, dev, dev, "h-"+id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	tok := env.Login(b, "a.admin", "dev-bench").AccessToken
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := testenv.CPUTime()
	for i := 0; i < b.N; i++ {
		if _, err := env.API.Auth.VerifyAccess(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((testenv.CPUTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

func BenchmarkParseAccess(b *testing.B) {
	env := testenv.New(b, quiet)
	testenv.CreateUser(b, env.DB, "a.admin", "admin", "", "")
	tok := env.Login(b, "a.admin", "dev-bench").AccessToken
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := testenv.CPUTime()
	for i := 0; i < b.N; i++ {
		if _, err, _ := env.Auth.Tokens.Parse(tok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((testenv.CPUTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}
