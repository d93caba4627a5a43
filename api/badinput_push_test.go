package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"prodays/api"
	"prodays/internal/dbtest"
	"prodays/internal/testenv"
)

// TestBadInputPush sends hostile bodies to POST /api/v1/sync/push (sync
// protocol, Push: at most 1,000 mutations and 2 MiB after decompression;
// gzip allowed).
func TestBadInputPush(t *testing.T) {
	env, s := testenv.NewAdmin(t, testenv.Options{}, "dev-push")

	mutation := func(i int) map[string]any {
		return map[string]any{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "seq": i + 1, "type": "attendance.check_in",
			"recorded_at": "2026-03-21T10:00:00.000+01:00", "activity_id": "A1", "person": map[string]string{"kind": "trainee", "id": "T1"}, "method": "qr"}
	}
	batch := func(n int) []byte {
		ms := make([]map[string]any, n)
		for i := range ms {
			ms[i] = mutation(i)
		}
		b, _ := json.Marshal(map[string]any{"device_id": "dev-push", "client_time": "2026-03-21T10:00:00.000+01:00", "app_version": "1.0.0", "outbox_size": n, "mutations": ms})
		return b
	}
	// 64 MiB of whitespace inside a valid prefix: about 64 KiB compressed.
	bomb := gzipped(append([]byte(`{"device_id":"dev-push","mutations":[`), bytes.Repeat([]byte(" "), 64<<20)...))
	for _, tc := range []struct {
		name, ctype, encoding string
		body                  []byte
		want                  int
		code                  string
	}{
		{"gzip bomb", "application/json", "gzip", bomb, 413, "too_large"},
		{"1,001 mutations", "application/json", "", batch(1001), 413, "too_large"},
		{"not gzip", "application/json", "gzip", []byte(`{"mutations":[]}`), 400, "invalid"},
		{"unknown encoding", "application/json", "br", []byte(`{}`), 415, "unsupported_media_type"},
		{"malformed", "application/json", "", []byte(`{"mutations":[`), 400, "invalid"},
		{"wrong types", "application/json", "", []byte(`{"device_id":1,"mutations":{}}`), 400, "invalid"},
		{"deeply nested", "application/json", "", []byte(strings.Repeat("[", 100_000)), 400, "invalid"},
		{"invalid UTF-8", "application/json", "", []byte("{\"device_id\":\"\xff\"}"), 400, "invalid"},
		{"unknown field", "application/json", "", []byte(`{"device_id":"dev-push","mutations":[],"admin":true}`), 400, "invalid"},
		{"key in other case", "application/json", "", []byte(`{"DEVICE_ID":"dev-push","client_time":"2026-03-21T10:00:00Z","mutations":[]}`), 400, "invalid"},
		{"duplicate key", "application/json", "", []byte(`{"device_id":"other","device_id":"dev-push","client_time":"2026-03-21T10:00:00Z","mutations":[]}`), 400, "invalid"},
		{"text/plain", "text/plain", "", batch(1), 415, "unsupported_media_type"},
		{"over 2 MiB", "application/json", "", append(batch(1)[:len(batch(1))-1], []byte(`,"pad":"`+strings.Repeat("x", 3<<20)+`"}`)...), 413, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dbtest.Fingerprint(t, env.DB)
			var headers []string
			if tc.encoding != "" {
				headers = []string{"Content-Encoding", tc.encoding}
			}
			a := answer(env.Raw(t, "POST", "/api/v1/sync/push", s.AccessToken, tc.ctype, tc.body, headers...))
			if a.Status != tc.want || a.Code() != tc.code || a.Header.Get("Content-Type") != api.ProblemContentType {
				t.Errorf("got %d %s %s, want %d %s", a.Status, a.Header.Get("Content-Type"), truncate(a.Body), tc.want, tc.code)
			}
			if ch := changedTables(before, dbtest.Fingerprint(t, env.DB)); len(ch) > 0 && !subset(ch, []string{"audit_log", "devices"}) {
				t.Errorf("database changed: %v", ch)
			}
			if st := env.Do(t, "GET", "/healthz", "", nil, nil); st != 200 {
				t.Fatalf("server down: %d", st)
			}
		})
	}
}
