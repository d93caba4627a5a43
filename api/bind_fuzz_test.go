package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"prodays"
)

// fuzzBody is a request shape with the kinds of fields handlers decode:
// text, numbers, booleans, lists, nested objects, raw JSON.
type fuzzBody struct {
	Username string   `json:"username"`
	Count    int      `json:"count"`
	Seq      int64    `json:"seq"`
	Ratio    float64  `json:"ratio"`
	OK       bool     `json:"ok"`
	IDs      []string `json:"ids"`
	Person   *struct {
		ID string `json:"id"`
	} `json:"person"`
	Fields map[string]string `json:"fields"`
	Raw    json.RawMessage   `json:"raw"`
}

// FuzzUnmarshalStrict: unmarshalStrict never panics; it fails with an
// EInvalid *prodays.Error or succeeds; it refuses invalid UTF-8; and what
// it accepts survives a round trip (marshal, decode strictly again: the
// same value).
func FuzzUnmarshalStrict(f *testing.F) {
	for _, s := range []string{
		`{"username":"a","count":1,"seq":9007199254740993,"ratio":0.5,"ok":true,"ids":["x"],"person":{"id":"p"},"fields":{"a":"b"},"raw":[1,{"x":null}]}`,
		`{}`, `null`, `[]`, `{"count":1e400}`, `{"count":"1"}`, `{"unknown":1}`, `{"username":"\u0000"}`,
		`{"a":1}{"b":2}`, `{"username":"x"} `, "\xff", `{"ids":[` + strings.Repeat("[", 100) + `]}`,
		`{"USERNAME":"case"}`, `{"username":"a","username":"b"}`, `{"count":-0}`, `{"seq":1.5}`,
		`{"person":{"id":"a","id":"b"}}`, `{"Person":{"ID":"x"}}`, `{"fields":{"a":"1","a":"2"}}`, `{"raw":{"k":1,"k":2}}`,
		`{"username":"a","Username":"b"}`, `{"u\u0073ername":"escaped key"}`, `{"username":"a","us\u0065rname":"b"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v fuzzBody
		err := unmarshalStrict(body, &v)
		if err != nil {
			if prodays.ErrorCode(err) != prodays.EInvalid {
				t.Fatalf("error %v: code %q, want invalid", err, prodays.ErrorCode(err))
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted invalid UTF-8: %q", body)
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal accepted value: %v", err)
		}
		var w fuzzBody
		if err := unmarshalStrict(out, &w); err != nil {
			t.Fatalf("round trip of %s: %v", out, err)
		}
		if !reflect.DeepEqual(normalize(v), normalize(w)) {
			t.Fatalf("round trip changed the value:\n%#v\n%#v", v, w)
		}
	})
}

// normalize compacts Raw (Marshal may reformat it; a nil Raw is written
// as null) so values compare.
func normalize(v fuzzBody) fuzzBody {
	if string(v.Raw) == "null" {
		v.Raw = nil
	}
	if v.Raw != nil {
		var b strings.Builder
		var x any
		if json.Unmarshal(v.Raw, &x) == nil {
			out, _ := json.Marshal(x)
			b.Write(out)
		}
		v.Raw = json.RawMessage(b.String())
	}
	return v
}

// TestUnmarshalStrictKeys: keys in another case and repeated keys are
// refused (encoding/json accepts both), at any depth.
func TestUnmarshalStrictKeys(t *testing.T) {
	for _, in := range []string{
		`{"USERNAME":"a"}`, `{"Username":"a"}`, `{"username":"a","username":"b"}`, `{"username":"a","us\u0065rname":"b"}`,
		`{"person":{"ID":"x"}}`, `{"person":{"id":"a","id":"b"}}`, `{"fields":{"a":"1","a":"2"}}`, `{"raw":[{"k":1,"k":2}]}`,
	} {
		var v fuzzBody
		if err := unmarshalStrict([]byte(in), &v); prodays.ErrorCode(err) != prodays.EInvalid {
			t.Errorf("%s: %v, want invalid", in, err)
		}
	}
	var v fuzzBody
	if err := unmarshalStrict([]byte(`{"u\u0073ername":"escaped key","person":{"id":"p"}}`), &v); err != nil || v.Username != "escaped key" {
		t.Errorf("an escaped key is the same key: %v %+v", err, v)
	}
}
