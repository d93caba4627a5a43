package strictjson

import (
	"reflect"
	"testing"
	"unicode/utf8"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// FuzzTopLevelDuplicate: on valid JSON, topLevelDuplicate answers as
// topLevelDuplicateDecoded whenever it answers.
func FuzzTopLevelDuplicate(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[{"a":2}],"a":3}`, `{"a\"":"x\\","b":{"c":"}"},"b":1}`, `null`, `[1,{"a":1,"a":2}]`,
		` {"x":"\\\"","y":[],"x":2} `, `{"\u0061":1,"a":2}`, `{}`, `"s"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		var v any
		if !utf8.Valid(b) || json.Unmarshal(b, &v, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)) != nil {
			return
		}
		if done, err := topLevelDuplicate(b); done && !reflect.DeepEqual(err, topLevelDuplicateDecoded(b)) {
			t.Fatalf("%q: %v, want %v", s, err, topLevelDuplicateDecoded(b))
		}
	})
}
