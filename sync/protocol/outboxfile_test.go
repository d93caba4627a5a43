package protocol_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"prodays"
	"prodays/sync/protocol"
)

// TestDecodeOutboxFile: the sent log joins the outbox in seq order, a
// mutation in both is kept once, a file without "sent" is a push body, and
// the limits and the strict envelope hold.
func TestDecodeOutboxFile(t *testing.T) {
	m := func(id string, seq int) string {
		return fmt.Sprintf(`{"id":"0190b5a0-2000-7000-8000-%012d","seq":%d,"type":"attendance.check_in","recorded_at":"2026-03-23T10:00:00Z","activity_id":"A1","person":{"kind":"trainee","id":"%s"},"method":"qr"}`, seq, seq, id)
	}
	env := `{"device_id":"dev-1","client_time":"2026-03-23T10:00:00Z","app_version":"1.0.0","outbox_size":1,"mutations":[%s]%s}`
	r, err := protocol.DecodeOutboxFile(fmt.Appendf(nil, env, m("T", 5), `,"sent":[`+m("T", 3)+","+m("T", 5)+","+m("T", 1)+`]`))
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, x := range r.Mutations {
		if x.Invalid != nil {
			t.Fatalf("mutation %d refused: %+v", x.Seq, x.Invalid)
		}
		seqs = append(seqs, x.Seq)
	}
	if fmt.Sprint(seqs) != "[1 3 5]" {
		t.Errorf("seqs %v, want [1 3 5]", seqs)
	}
	if r, err := protocol.DecodeOutboxFile(fmt.Appendf(nil, env, "", "")); err != nil || len(r.Mutations) != 0 || len(protocol.ChunkMutations(r)) != 1 {
		t.Errorf("empty file: %v %v", r, err)
	}
	code := func(err error) string {
		var pe *prodays.Error
		if errors.As(err, &pe) {
			return pe.Code
		}
		return fmt.Sprint(err)
	}
	if _, err := protocol.DecodeOutboxFile(fmt.Appendf(nil, env, "", `,"sent":[`+strings.Repeat("{},", protocol.MaxSent)+`{}]`)); code(err) != prodays.ETooLarge {
		t.Errorf("over MaxSent: %v, want too_large", err)
	}
	if _, err := protocol.DecodeOutboxFile(fmt.Appendf(nil, env, "", `,"sent":{}`)); code(err) != prodays.EInvalid {
		t.Errorf("sent not an array: %v, want invalid", err)
	}
	big := &protocol.PushRequest{Mutations: make([]protocol.Mutation, 2*protocol.MaxMutations+1)}
	chunks := protocol.ChunkMutations(big)
	if len(chunks) != 3 || len(chunks[0].Mutations) != protocol.MaxMutations || len(chunks[2].Mutations) != 1 {
		t.Errorf("chunks of %d: %d", len(big.Mutations), len(chunks))
	}
}
