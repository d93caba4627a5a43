package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"prodays"
)

// TestHandleErrorStatusFromRegistry writes one *prodays.Error of every
// registered problem code and checks the answer's status and code against
// the registry; an unregistered code, a per-mutation push code and a plain
// error answer 500 "internal", logged with the code.
func TestHandleErrorStatusFromRegistry(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	do := func(err error) (int, map[string]any) {
		e := echo.New()
		e.HTTPErrorHandler = s.handleError
		e.GET("/x", func(echo.Context) error { return err })
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: body %q: %v", err, rec.Body, err)
		}
		if ct := rec.Header().Get(echo.HeaderContentType); ct != ProblemContentType {
			t.Errorf("%v: Content-Type %q, want %q", err, ct, ProblemContentType)
		}
		return rec.Code, body
	}
	for _, c := range prodays.Codes() {
		if c.Status == 0 {
			continue
		}
		t.Run(c.Code, func(t *testing.T) {
			st, body := do(prodays.Errorf(c.Code, "Some message."))
			if st != c.Status || body["code"] != c.Code || body["status"] != float64(c.Status) {
				t.Errorf("got %d %v, want %d %s", st, body, c.Status, c.Code)
			}
		})
	}
	for _, tc := range []struct {
		name, wantLog string
		err           error
	}{
		{"unregistered", "unregistered error code", &prodays.Error{Code: "no_such_code", Message: "Secret.", Detail: map[string]any{"x": 1}}},
		{"push result code", "unregistered error code", prodays.Errorf(prodays.CodeOutOfScope, "Secret.")},
		{"plain error", "request failed", errors.New("secret cause")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			st, body := do(tc.err)
			if st != http.StatusInternalServerError || body["code"] != prodays.EInternal || body["detail"] != "Internal error." || body["x"] != nil {
				t.Errorf("got %d %v, want 500 internal without the message or the detail", st, body)
			}
			if !strings.Contains(logs.String(), tc.wantLog) || !strings.Contains(logs.String(), "secret") && !strings.Contains(logs.String(), "Secret") {
				t.Errorf("log %q lacks %q and the cause", logs.String(), tc.wantLog)
			}
		})
	}
}
