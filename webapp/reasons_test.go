package webapp

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// codeSources are the packages whose constants are the stable codes the
// server sends (problem codes of the API, per-mutation result codes and
// flag kinds of the sync protocol, review and import codes), relative to
// this package.
var codeSources = []string{"..", "../auth", "../api", "../importer", "../sync/protocol", "../sync/engine"}

// codeConst is the name of a code constant: E..., ECode..., Code...
// (per-mutation results) and Flag... (flag kinds).
var codeConst = regexp.MustCompile(`^(E|ECode|Code|Flag)[A-Z]`)

// serverCodes lists every code the server can emit, from the Go source
// itself: the string constants named as codes in codeSources, and the
// literal codes of the API (keys of api.statusOf, the first argument of
// prodays.Errorf, Code: fields of composite literals).
func serverCodes(t *testing.T) map[string]string {
	t.Helper()
	codes := map[string]string{} // code -> where
	fset := token.NewFileSet()
	lit := func(e ast.Expr) (string, bool) {
		b, ok := e.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(b.Value)
		return s, err == nil && s != ""
	}
	for _, dir := range codeSources {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					for i, name := range n.Names {
						if codeConst.MatchString(name.Name) && i < len(n.Values) {
							if s, ok := lit(n.Values[i]); ok {
								codes[s] = fset.Position(name.Pos()).String()
							}
						}
					}
				case *ast.KeyValueExpr:
					if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Code" {
						if s, ok := lit(n.Value); ok {
							codes[s] = fset.Position(n.Pos()).String()
						}
					}
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Errorf" && len(n.Args) > 1 {
						if x, ok := sel.X.(*ast.Ident); ok && x.Name == "prodays" {
							if s, ok := lit(n.Args[0]); ok {
								codes[s] = fset.Position(n.Pos()).String()
							}
						}
					}
				case *ast.CompositeLit: // api.statusOf: map[string]int{code: status}
					if m, ok := n.Type.(*ast.MapType); ok {
						if k, ok := m.Key.(*ast.Ident); ok && k.Name == "string" {
							if v, ok := m.Value.(*ast.Ident); ok && v.Name == "int" {
								for _, e := range n.Elts {
									if kv, ok := e.(*ast.KeyValueExpr); ok {
										if s, ok := lit(kv.Key); ok {
											codes[s] = fset.Position(kv.Pos()).String()
										}
									}
								}
							}
						}
					}
				}
				return true
			})
		}
	}
	return codes
}

// mergeReasons lists the sentences the sync engine stores as merge
// proposal reasons (reason = "..." in sync/engine/trainee.go).
func mergeReasons(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../sync/engine/trainee.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`reason = ("(?:[^"\\]|\\.)*")`).FindAllStringSubmatch(string(src), -1) {
		s, err := strconv.Unquote(m[1])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatal("no merge reason found in sync/engine/trainee.go")
	}
	return out
}

// TestReasonTranslations fails when a code the server can emit has no
// text ("reason.<code>") in one of the message files, so that a new code
// cannot reach a French or Arabic screen in English: the consoles and the
// status lists show reasons through static/js/reasons.js.
func TestReasonTranslations(t *testing.T) {
	codes := serverCodes(t)
	for _, want := range []string{"out_of_scope", "unknown_activity", "late", "invalid", "import_invalid", "review_pending", "method_not_allowed", "resync", "device_mismatch"} {
		if _, ok := codes[want]; !ok {
			t.Fatalf("code %s not found in the Go source: the scan is broken", want)
		}
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
