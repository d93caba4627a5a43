package prodays_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"prodays"
	"prodays/internal/shared"
)

// TestCodesRegistry checks the registry's own rules: each code once, a
// problem code with an HTTP error status, a per-mutation code with none.
func TestCodesRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range prodays.Codes() {
		if seen[c.Code] {
			t.Errorf("%s: registered twice", c.Code)
		}
		seen[c.Code] = true
		switch c.Result {
		case "":
			if c.Status < 400 || c.Status > 599 || http.StatusText(c.Status) == "" {
				t.Errorf("%s: problem code with status %d, want an HTTP error status", c.Code, c.Status)
			}
		case "rejected", "flagged", "issue":
			if c.Status != 0 {
				t.Errorf("%s: per-mutation code with status %d, want 0", c.Code, c.Status)
			}
		default:
			t.Errorf("%s: result %q, want \"\", rejected or flagged", c.Code, c.Result)
		}
		if got, ok := prodays.LookupCode(c.Code); !ok || got != c {
			t.Errorf("LookupCode(%s): got %+v %v, want %+v", c.Code, got, ok, c)
		}
	}
	if _, ok := prodays.LookupCode("no_such_code"); ok {
		t.Error("LookupCode(no_such_code) found an entry")
	}
}

// codeConst is the name of a code constant: E... (problem codes), Code...
// (per-mutation result codes) and Flag... (flag kinds).
var codeConst = regexp.MustCompile(`^(E|ECode|Code|Flag)[A-Z]`)

// emittedCodes lists every code the Go source of the module can emit, by
// where it is written: the string constants named as codes, and the codes
// given to prodays.Errorf and to the Code field of composite literals
// (prodays.Error, protocol.Rejection, protocol.Result), as a literal or as
// a constant, resolved through the packages' constants. Test files are left
// out.
func emittedCodes(t *testing.T) map[string]string {
	t.Helper()
	type file struct {
		pkg string // directory, relative to the module
		f   *ast.File
	}
	fset := token.NewFileSet()
	var files []file
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != "." && (strings.HasPrefix(n, ".") || n == "testdata" || n == "static" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files = append(files, file{filepath.Dir(path), f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Constants of each package: directory -> name -> value expression.
	consts := map[string]map[string]ast.Expr{}
	dirOf := map[string]string{} // import name -> directory ("prodays" -> ".")
	for _, fl := range files {
		if consts[fl.pkg] == nil {
			consts[fl.pkg] = map[string]ast.Expr{}
		}
		dirOf[fl.f.Name.Name] = fl.pkg
		for _, d := range fl.f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, sp := range g.Specs {
					v := sp.(*ast.ValueSpec)
					for i, n := range v.Names {
						if i < len(v.Values) {
							consts[fl.pkg][n.Name] = v.Values[i]
						}
					}
				}
			}
		}
	}
	dirOf["prodays"] = "."
	var resolve func(pkg string, e ast.Expr, depth int) (string, bool)
	resolve = func(pkg string, e ast.Expr, depth int) (string, bool) {
		if depth > 5 {
			return "", false
		}
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind != token.STRING {
				return "", false
			}
			s, err := strconv.Unquote(e.Value)
			return s, err == nil && s != ""
		case *ast.Ident:
			if v, ok := consts[pkg][e.Name]; ok {
				return resolve(pkg, v, depth+1)
			}
		case *ast.SelectorExpr:
			if x, ok := e.X.(*ast.Ident); ok {
				if dir, ok := dirOf[x.Name]; ok {
					if v, ok := consts[dir][e.Sel.Name]; ok {
						return resolve(dir, v, depth+1)
					}
				}
			}
		}
		return "", false
	}
	codes := map[string]string{} // code -> where
	for _, fl := range files {
		ast.Inspect(fl.f, func(n ast.Node) bool {
			add := func(e ast.Expr, at token.Pos) {
				if s, ok := resolve(fl.pkg, e, 0); ok {
					codes[s] = fset.Position(at).String()
				}
			}
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if codeConst.MatchString(name.Name) && i < len(n.Values) {
						add(n.Values[i], name.Pos())
					}
				}
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Code" {
					add(n.Value, n.Pos())
				}
			case *ast.CallExpr:
				if len(n.Args) < 2 {
					break
				}
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr: // prodays.Errorf
					if x, ok := fn.X.(*ast.Ident); ok && x.Name == "prodays" && fn.Sel.Name == "Errorf" {
						add(n.Args[0], n.Pos())
					}
				case *ast.Ident: // Errorf inside package prodays
					if fn.Name == "Errorf" && fl.f.Name.Name == "prodays" {
						add(n.Args[0], n.Pos())
					}
				}
			}
			return true
		})
	}
	return codes
}

// TestEmittedCodesRegistered fails when the Go source can emit a code that
// the registry does not list: the error writer would answer it 500.
func TestEmittedCodesRegistered(t *testing.T) {
	codes := emittedCodes(t)
	for _, want := range []string{prodays.EInvalid, prodays.EMethodNotAllowed, prodays.EResync, prodays.EImportInvalid, prodays.CodeOutOfScope, prodays.FlagLate} {
		if _, ok := codes[want]; !ok {
			t.Fatalf("code %s not found in the Go source: the scan is broken", want)
		}
	}
	for code, where := range codes {
		if _, ok := prodays.LookupCode(code); !ok {
			t.Errorf("%s: code %q is not in the registry (prodays.Codes)", where, code)
		}
	}
	t.Logf("%d codes in the Go source, %d registered", len(codes), len(prodays.Codes()))
}

// TestCodesMatchProtocol checks the registry against the sync protocol's
// codes table (design/sync-protocol.md, "Codes"): every code there is
// registered, seen by phones, with the same HTTP status ("—" for none).
func TestCodesMatchProtocol(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(shared.Dir(t, "design"), "sync-protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "\n## Codes\n")
	if !ok {
		t.Fatal("sync-protocol.md: no Codes section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) != 4 {
			continue
		}
		if cells[2] == "push result `status`" { // applied, duplicate, flagged, rejected
			continue
		}
		status := 0
		if cells[1] != "—" {
			if status, err = strconv.Atoi(cells[1]); err != nil {
				t.Fatalf("%q: status %q", line, cells[1])
			}
		}
		for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(cells[0], -1) {
			rows++
			c, ok := prodays.LookupCode(m[1])
			switch {
			case !ok:
				t.Errorf("%s (sync protocol) is not registered", m[1])
			case c.Status != status || !c.Phone:
				t.Errorf("%s: registered as status %d phone %v, the protocol says %d, seen by phones", m[1], c.Status, c.Phone, status)
			case status == 0 && c.Result != cells[2]:
				t.Errorf("%s: registered as a %q result, the protocol says %q", m[1], c.Result, cells[2])
			}
		}
	}
	if rows < 17 {
		t.Fatalf("read %d codes from the protocol's table: the parse is broken", rows)
	}
}
