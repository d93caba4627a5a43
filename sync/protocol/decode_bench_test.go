package protocol_test

import (
	"fmt"
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/sync/protocol"
)

// BenchmarkDecodePush decodes a push of 500 check-ins (the batch of the
// engine's BenchmarkHTTPPush), as the server does before the engine.
func BenchmarkDecodePush(b *testing.B) {
	at := time.Date(2026, 3, 23, 10, 0, 0, 0, time.UTC)
	ph := synctest.NewPhone("dev-bench", at.Add(-time.Hour))
	ms := make([]protocol.Mutation, 500)
	for i := range ms {
		ms[i] = ph.CheckIn(fmt.Sprintf("BM-%03d", i%40), "trainee", fmt.Sprintf("F2500018%05dZ", i))
	}
	body := synctest.Body("dev-bench", at, len(ms), ms...)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req, err := protocol.DecodePush(body)
		if err != nil {
			b.Fatal(err)
		}
		if req.Mutations[499].Invalid != nil {
			b.Fatal(req.Mutations[499].Invalid)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ms)), "ns/mutation")
}
