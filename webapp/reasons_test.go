package webapp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"prodays"
)

// mergeReasons lists the sentences the sync engine stores as merge
// proposal reasons (reason = "..." in the engine's Go files).
func mergeReasons(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../sync/engine/*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`reason = ("(?:[^"\\]|\\.)*")`).FindAllStringSubmatch(string(src), -1) {
			s, err := strconv.Unquote(m[1])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		t.Fatal("no merge reason found in sync/engine")
	}
	return out
}

// TestReasonTranslations fails when a code of the registry (prodays.Codes:
// every code the server can emit, a test of the prodays package checks
// that) or a merge reason has no text ("reason.<code>") in one of the
// message files, so that a new code cannot reach a French or Arabic screen
// in English: the consoles and the status lists show reasons through
// static/js/reasons.js.
func TestReasonTranslations(t *testing.T) {
	codes := map[string]string{} // code -> where
	for _, c := range prodays.Codes() {
		codes[c.Code] = "prodays.Codes"
	}
	js, err := os.ReadFile("static/js/reasons.js")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)MERGE_REASONS = \{(.*?)\};`).FindSubmatch(js)
	if block == nil {
		t.Fatal("reasons.js: MERGE_REASONS not found")
	}
	merge := map[string]string{}
	for _, m := range regexp.MustCompile(`'([^']+)': '([a-z_]+)'`).FindAllSubmatch(block[1], -1) {
		merge[string(m[1])] = string(m[2])
	}
	for _, r := range mergeReasons(t) {
		code, ok := merge[r]
		if !ok {
			t.Errorf("merge reason %q (sync/engine/trainee.go) is not in reasons.js MERGE_REASONS", r)
			continue
		}
		codes[code] = "reasons.js MERGE_REASONS"
	}
	keys := make([]string, 0, len(codes))
	for c := range codes {
		keys = append(keys, c)
	}
	slices.Sort(keys)
	t.Logf("%d codes: %s", len(keys), strings.Join(keys, " "))
	for _, lang := range []string{"fr", "ar", "en"} {
		b, err := os.ReadFile("static/i18n/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var msgs map[string]string
		if err := json.Unmarshal(b, &msgs); err != nil {
			t.Fatalf("%s.json: %v", lang, err)
		}
		for _, c := range keys {
			if strings.TrimSpace(msgs["reason."+c]) == "" {
				t.Errorf("%s.json lacks \"reason.%s\" (code from %s)", lang, c, codes[c])
			}
		}
	}
}
