package protocol_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"prodays/sync/protocol"
)

// golden reads testdata/golden/name: the protocol's golden requests and
// answers, which api's TestGoldenProtocol compares with a real server's
// and the browser tests with the app's own requests.
func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// generic decodes b as plain JSON values, with every time (RFC 3339) in
// one spelling: the instant in UTC.
func generic(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return sameTimes(v)
}

func sameTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = sameTimes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = sameTimes(e)
		}
	case string:
		if tm, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return tm.UTC().Format(time.RFC3339Nano)
		}
	}
	return v
}

// roundTrip decodes b into v, refusing unknown keys, encodes v again and
// fails when the result differs from b as JSON values: the protocol's type
// carries every key and value of the golden file.
func roundTrip(t *testing.T, name string, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := generic(t, again), generic(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: decoded and encoded again\ngot:  %s\nwant: %s", name, again, b)
	}
}

// TestGoldenPush: the golden push request passes the server's decoder with
// no invalid mutation, and its answer decodes into PushResponse.
func TestGoldenPush(t *testing.T) {
	req, err := protocol.DecodePush(golden(t, "push_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Mutations) == 0 {
		t.Fatal("golden push request: no mutation")
	}
	for _, m := range req.Mutations {
		if m.Invalid != nil {
			t.Errorf("golden mutation %s is invalid: %+v", m.ID, m.Invalid)
		}
	}
	roundTrip(t, "push_request.json", golden(t, "push_request.json"), &protocol.PushRequest{})
	var resp protocol.PushResponse
	roundTrip(t, "push_response.json", golden(t, "push_response.json"), &resp)
	if len(resp.Results) != len(req.Mutations) {
		t.Errorf("golden push answer: %d results for %d mutations", len(resp.Results), len(req.Mutations))
	}
	for i, r := range resp.Results {
		if r.ID != req.Mutations[i].ID {
			t.Errorf("result %d: id %s, want the mutation's %s", i, r.ID, req.Mutations[i].ID)
		}
	}
}

// TestGoldenPull: the golden pull page decodes into PullResponse.
func TestGoldenPull(t *testing.T) {
	var page protocol.PullResponse
	roundTrip(t, "pull_response.json", golden(t, "pull_response.json"), &page)
	if len(page.Changes) == 0 || page.Cursor == "" {
		t.Errorf("golden pull page: %d changes, cursor %q", len(page.Changes), page.Cursor)
	}
}

// TestGoldenLoginAndProblem: the golden login carries device_id, its
// answer device_secret (sync protocol, Device binding), and the golden
// error is a problem+json with a stable code (sync protocol, Errors).
func TestGoldenLoginAndProblem(t *testing.T) {
	var login struct {
		Username      string `json:"username"`
		Password      string `json:"password"`
		DeviceID      string `json:"device_id"`
		DeviceSecret  string `json:"device_secret,omitempty"`
		TokenDelivery string `json:"token_delivery,omitempty"`
	}
	roundTrip(t, "login_request.json", golden(t, "login_request.json"), &login)
	if login.DeviceID == "" {
		t.Error("golden login request: no device_id")
	}
	answer, _ := generic(t, golden(t, "login_response.json")).(map[string]any)
	for _, k := range []string{"access_token", "refresh_token", "device_secret", "user"} {
		if _, ok := answer[k]; !ok {
			t.Errorf("golden login answer: no %s", k)
		}
	}
	var problem struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
		Code   string `json:"code"`
	}
	roundTrip(t, "problem.json", golden(t, "problem.json"), &problem)
	if problem.Code == "" || problem.Status == 0 {
		t.Errorf("golden problem: %+v", problem)
	}
}
