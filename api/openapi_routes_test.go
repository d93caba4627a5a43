package api_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"prodays/api"
	"prodays/internal/testenv"
)

// TestOpenAPIRoutes: every route the server registers (method and path,
// Echo's :param as OpenAPI's {param}) is in the OpenAPI document, with
// each path parameter declared; a new route cannot ship undocumented.
func TestOpenAPIRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	loaded, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	env := testenv.New(t, testenv.Options{})
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	seen := map[string]bool{}
	for _, r := range env.Echo.Routes() {
		if !strings.HasPrefix(r.Path, "/") || r.Method == "echo_route_not_found" || strings.HasSuffix(r.Path, "*") {
			continue
		}
		path := param.ReplaceAllString(r.Path, "{$1}")
		key := r.Method + " " + path
		if seen[key] {
			continue
		}
		seen[key] = true
		op, ok := doc.Paths[path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("openapi.json lacks %s", key)
			continue
		}
		var o struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
		}
		json.Unmarshal(op, &o)
		var shared struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
		}
		if raw, ok := doc.Paths[path]["parameters"]; ok {
			json.Unmarshal([]byte(`{"parameters":`+string(raw)+`}`), &shared)
		}
		for _, m := range param.FindAllStringSubmatch(r.Path, -1) {
			found := false
			for _, p := range append(o.Parameters, shared.Parameters...) {
				found = found || (p.In == "path" && p.Name == m[1])
			}
			if !found {
				t.Errorf("openapi.json %s: path parameter %s not declared", key, m[1])
			}
		}
	}
	if len(seen) < 30 {
		t.Fatalf("only %d routes seen: is Echo.Routes() the server's?", len(seen))
	}
}
