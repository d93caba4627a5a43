package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type target struct {
	ID    string            `json:"id"`
	Seq   int64             `json:"seq"`
	Inner *struct{ A int }  `json:"inner"`
	Raw   []json.RawMessage `json:"raw"`
}

func TestUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want string // in the message
		is   error
	}{
		{`{"id":"a","seq":1}`, true, "", nil},
		{`{"ID":"a"}`, false, `unknown field "ID"`, ErrUnknownName},
		{`{"Id":"a"}`, false, `unknown field "Id"`, ErrUnknownName},
		{`{"id":"a","id":"b"}`, false, `duplicate key "id"`, ErrDuplicateName},
		{`{"inner":{"A":1,"A":2}}`, false, `duplicate key "A"`, ErrDuplicateName},
		{`{"raw":[{"x":1,"x":2}]}`, false, `duplicate key "x"`, ErrDuplicateName},
		{`{"nope":1}`, false, `unknown field "nope"`, ErrUnknownName},
		{`{"seq":"1"}`, false, `field "seq": expected int64`, nil},
		{`{"id":`, false, "malformed JSON", nil},
		{`{"id":"a"}{"id":"b"}`, false, "", nil},
		{` `, false, "empty", nil},
		{"{\"id\":\"\xff\"}", false, "UTF-8", nil},
		{strings.Repeat("[", 20000), false, "", nil},
	} {
		var v target
		err := Unmarshal([]byte(tc.in), &v)
		if tc.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) || tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%.40s: %v", tc.in, err)
		}
	}
}

func TestUnmarshalTopLevel(t *testing.T) {
	var v target
	if err := UnmarshalTopLevel([]byte(`{"id":"a","raw":[{"x":1,"x":2}]}`), &v); err != nil || len(v.Raw) != 1 {
		t.Fatalf("nested duplicate must pass the envelope: %v", err)
	}
	if err := UnmarshalTopLevel([]byte(`{"id":"a","raw":[],"id":"b"}`), &v); err == nil || !errors.Is(err, ErrDuplicateName) {
		t.Fatalf("top-level duplicate: %v", err)
	}
	if err := UnmarshalTopLevel([]byte(`{"ID":"a"}`), &v); err == nil || !errors.Is(err, ErrUnknownName) {
		t.Fatalf("case: %v", err)
	}
}
