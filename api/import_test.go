package api

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"prodays/importer"
	"prodays/internal/dbtest"

	"prodays/store"
)

// MultipartBody builds a multipart/form-data body with the fields and,
// unless filename is empty, the file field; it returns the body and its
// Content-Type. (Exported for the api_test package's tests.)
func MultipartBody(filename string, file []byte, fields map[string]string) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if filename != "" {
		fw, _ := mw.CreateFormFile("file", filename)
		fw.Write(file)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// upload calls importFile directly, as the router would, and renders any
// error with the server's error handler.
func upload(t *testing.T, s *Server, kind, filename, body string, fields map[string]string) (int, map[string]any) {
	t.Helper()
	form, contentType := MultipartBody(filename, []byte(body), fields)
	e := s.Handler()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/admin/import/"+kind, bytes.NewReader(form))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	c := e.NewContext(req, rec)
	c.SetPath("/api/v1/admin/import/:kind")
	c.SetParamNames("kind")
	c.SetParamValues(kind)
	if err := s.importFile(c); err != nil {
		e.HTTPErrorHandler(err, c)
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, out
}

func TestImportFile(t *testing.T) {
	db := dbtest.Open(t)
	s := &Server{DB: db, Importer: importer.Service{DB: db}}
	const trainees = "trainee_id,last_name,first_name,establishment_code\n" +
		"F25010500001N,\"Aït\nBaha\",Meryem,EFP0105\n" +
		"F25010500002P,Rami,Omar,EFP9999\n"

	code, body := upload(t, s, "establishments", "etablissements.csv", "code;name;city;region_code\nEFP0105;ISTA Tanger;Tanger;TTA\n", nil)
	if code != http.StatusOK || body["imported"] != true {
		t.Fatalf("establishments: %d %v", code, body)
	}
	if c := body["counts"].(map[string]any)["establishments"].(map[string]any); c["inserted"] != 1.0 {
		t.Errorf("counts: %v", c)
	}

	code, body = upload(t, s, "trainees", "trainees.csv", trainees, nil)
	if code != http.StatusUnprocessableEntity || body["code"] != "import_invalid" {
		t.Fatalf("invalid trainees: %d %v", code, body)
	}
	errs, _ := body["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors: %v", body["errors"])
	}
	e0 := errs[0].(map[string]any)
	if e0["file"] != "trainees.csv" || e0["line"] != 4.0 || e0["column"] != "establishment_code" || e0["position"] != 4.0 ||
		!strings.Contains(e0["message"].(string), "unknown establishment EFP9999") {
		t.Errorf("error: %v", e0)
	}
	var n int
	n = dbtest.Value[int](t, db, `SELECT count(*) FROM trainees`)
	if n != 0 {
		t.Errorf("%d trainees after a refused import", n)
	}

	code, body = upload(t, s, "trainees", "trainees.csv", trainees, map[string]string{"skip_invalid": "true"})
	if code != http.StatusOK {
		t.Fatalf("skip_invalid: %d %v", code, body)
	}
	if c := body["counts"].(map[string]any)["trainees"].(map[string]any); c["inserted"] != 1.0 || c["skipped"] != 1.0 {
		t.Errorf("skip_invalid counts: %v", c)
	}
	audit, _ := s.DB.ListAudit(context.Background(), store.AuditFilter{Action: "import"})
	if len(audit) != 2 || audit[0].Username != "api" || audit[0].Target != "trainees" {
		t.Errorf("audit: %+v", audit)
	}

	for _, tc := range []struct {
		name, kind, file, body string
		max                    int64
		status                 int
		code                   string
	}{
		{"too large", "trainees", "trainees.csv", strings.Repeat("x", 200<<10), 100 << 10, http.StatusRequestEntityTooLarge, "too_large"},
		{"no file", "trainees", "", "", 0, http.StatusBadRequest, "invalid"},
		{"unknown kind", "checkins", "checkins.csv", "a\n", 0, http.StatusBadRequest, "invalid"},
		{"empty", "companies", "companies.csv", "", 0, http.StatusUnprocessableEntity, "import_invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.ImportMaxBytes = tc.max
			code, body := upload(t, s, tc.kind, tc.file, tc.body, nil)
			if code != tc.status || body["code"] != tc.code {
				t.Errorf("got %d %v, want %d %s", code, body, tc.status, tc.code)
			}
		})
	}
}
