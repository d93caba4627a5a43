package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"reflect"
	"slices"
	"testing"
	"time"
)

// update rewrites the golden answers from the real server's (go test
// ./api -run TestGolden -update); the requests are written by hand.
var update = flag.Bool("update", false, "rewrite the golden answers of the protocol from the server's")

// goldenDir holds the protocol's golden requests and answers, read by the
// Go tests of api and sync/protocol and by the browser tests.
const goldenDir = "../sync/protocol/testdata/golden"

// volatile are the keys whose values change from one run to the next
// (tokens, secrets, clocks, cursors); masked, they keep only their type.
var volatile = map[string]bool{"access_token": true, "refresh_token": true, "device_secret": true,
	"server_time": true, "clock_offset_ms": true, "epoch": true, "cursor": true}

// maskedTime stands for every time of an answer (RFC 3339, so that the
// golden answers still decode into the protocol's types).
const maskedTime = "2000-01-01T00:00:00.000Z"

// mask returns the JSON value v with volatile values, and strings that are
// times (RFC 3339), replaced by a placeholder of the same JSON type.
func mask(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = mask(k, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mask(key, e)
		}
		return out
	case string:
		if _, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return maskedTime
		}
		if volatile[key] {
			return "<" + key + ">"
		}
	case float64:
		if volatile[key] {
			return float64(0)
		}
	}
	return v
}

// readGolden returns the decoded golden file name.
func readGolden(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// checkGolden compares a real answer with the golden file name: the same
// keys, the same JSON types and the same values once masked. With -update
// it writes the masked answer instead.
func checkGolden(t *testing.T, name string, got any) {
	t.Helper()
	got = mask("", got)
	if *update {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(got); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(goldenDir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := mask("", readGolden(t, name))
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s: the server's answer differs from the golden one\ngot:\n%s\nwant:\n%s\nkeys got %v, want %v", name, g, w, keys(got), keys(want))
	}
}

// keys lists the paths of the object keys of v (array elements as []).
func keys(v any) []string {
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				out = append(out, prefix+k)
				walk(prefix+k+".", e)
			}
		case []any:
			for _, e := range x {
				walk(prefix+"[].", e)
			}
		}
	}
	walk("", v)
	slices.Sort(out)
	return slices.Compact(out)
}

// TestGoldenProtocol sends the golden requests (login, push) to a real
// server and compares its answers (login, push, a pull page, a
// problem+json) with the golden answers under sync/protocol/testdata.
func TestGoldenProtocol(t *testing.T) {
	env := testenv.New(t, testenv.Options{Now: func() time.Time { return eventNow }})
	synctest.Seed(t, env.DB)
	testenv.CreateUser(t, env.DB, "staff1", "staff", "E1", "")

	var login map[string]any
	if st := env.Do(t, "POST", "/api/v1/auth/login", "", readGolden(t, "login_request.json"), &login); st != http.StatusOK {
		t.Fatalf("golden login: %d %v", st, login)
	}
	checkGolden(t, "login_response.json", login)
	token, _ := login["access_token"].(string)

	var problem any
	if st := env.Do(t, "POST", "/api/v1/sync/push", "", readGolden(t, "push_request.json"), &problem); st != http.StatusUnauthorized {
		t.Fatalf("golden push without a token: %d %v", st, problem)
	}
	checkGolden(t, "problem.json", problem)

	var push any
	if st := env.Do(t, "POST", "/api/v1/sync/push", token, readGolden(t, "push_request.json"), &push); st != http.StatusOK {
		t.Fatalf("golden push: %d %v", st, push)
	}
	checkGolden(t, "push_response.json", push)

	var pull any
	if st := env.Do(t, "GET", "/api/v1/sync/pull?limit=3", token, nil, &pull); st != http.StatusOK {
		t.Fatalf("pull: %d %v", st, pull)
	}
	checkGolden(t, "pull_response.json", pull)
}
