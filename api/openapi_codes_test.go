package api_test

import (
	"encoding/json"
	"slices"
	"testing"

	"prodays"
	"prodays/api"
)

// TestOpenAPICodes checks the codes the OpenAPI document promises against
// the registry: the enum of Problem.code is every problem code, that of
// Result.code every per-mutation code, that of ImportIssue.code every
// import issue code, in the registry's order. Response
// validation (oas) then refuses an answer with any other code.
func TestOpenAPICodes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var problem, result, issue []string
	for _, c := range prodays.Codes() {
		switch {
		case c.Status != 0:
			problem = append(problem, c.Code)
		case c.Result == "issue":
			issue = append(issue, c.Code)
		default:
			result = append(result, c.Code)
		}
	}
	for _, tc := range []struct {
		schema string
		want   []string
	}{
		{"Problem", problem},
		{"Result", result},
		{"ImportIssue", issue},
	} {
		got := doc.Components.Schemas[tc.schema].Properties["code"].Enum
		if !slices.Equal(got, tc.want) {
			t.Errorf("openapi.json %s.code enum:\n got %q\nwant %q (prodays.Codes)", tc.schema, got, tc.want)
		}
	}
}
