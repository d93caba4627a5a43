package api

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"prodays"
)

// multipartSlack is what a multipart body may hold beyond the file itself
// (boundaries, part headers, the skip_invalid field).
const multipartSlack = 64 << 10

// DefaultImportConcurrent is how many imports run at once by default: an
// import may hold up to Server.ImportMaxBytes of upload and
// Server.ImportMaxInflatedBytes of inflated workbook (on disk), and its
// rows in memory; two keep the peak well bounded and serve an office that
// imports its files one by one.
const DefaultImportConcurrent = 2

// importRetryAfter is the Retry-After, in seconds, of an import refused
// because others are running (an import of the real edition takes a few
// seconds).
const importRetryAfter = 5

// importSlot is the route middleware of the import: at most
// Server.ImportConcurrent imports at once, the others refused at once
// (before their body is read) with 503 unavailable and a Retry-After.
func (s *Server) importSlot(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		select {
		case s.imports <- struct{}{}:
		default:
			return &prodays.Error{Code: prodays.EUnavailable,
				Message: fmt.Sprintf("%d imports are already running: try again in a few seconds.", cap(s.imports)),
				Detail:  map[string]any{"retry_after": importRetryAfter, "max_concurrent_imports": cap(s.imports)}}
		}
		defer func() { <-s.imports }()
		return next(c)
	}
}

// importFile is POST /api/v1/admin/import/:kind (admin only): it imports
// one file of the office (CSV or XLSX, by the upload's file name) sent as
// the multipart form field "file"; the form field skip_invalid=true
// imports the valid rows of a file with errors; overwrite_local_changes=true
// takes the file's value of a trainee field changed on the server since
// the last import (kept by default; listed in local_changes either way).
// It answers 200 with the importer.Report as JSON; 422 (code import_invalid) when the file has
// errors and nothing was imported, the per-line errors in the "errors"
// member; 413 (too_large) over Server.ImportMaxBytes (member max_bytes)
// or for a workbook that inflates past Server.ImportMaxInflatedBytes
// (members file and max_inflated_bytes, refused before inflating); 415
// for a compressed body (Content-Encoding); 503 (unavailable, with
// Retry-After) while Server.ImportConcurrent imports run; 400 for a bad
// kind or form.
func (s *Server) importFile(c echo.Context) error {
	kind := c.Param("kind")
	if !slices.Contains(s.Importer.Kinds(), kind) {
		return prodays.Errorf(prodays.EInvalid, "Unknown import kind %q: want one of %s.", kind, strings.Join(s.Importer.Kinds(), ", "))
	}
	// The upload is capped as sent; nothing inflates a compressed body.
	if enc := c.Request().Header.Get(echo.HeaderContentEncoding); enc != "" && !strings.EqualFold(enc, "identity") {
		return prodays.Errorf(prodays.EUnsupported, "Send the file uncompressed (Content-Encoding %q is not accepted on imports; an XLSX is compressed already).", enc)
	}
	limit := s.ImportMaxBytes
	if limit <= 0 {
		limit = prodays.DefaultImportMaxBytes
	}
	tooLarge := &prodays.Error{Code: prodays.ETooLarge, Message: "The file is larger than the import limit.",
		Detail: map[string]any{"max_bytes": limit}}
	req := c.Request()
	if req.ContentLength > limit+multipartSlack {
		return tooLarge
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, limit+multipartSlack)
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return tooLarge
		case errors.Is(err, http.ErrMissingFile):
			return prodays.Errorf(prodays.EInvalid, "Send the file in the multipart form field \"file\".")
		}
		return prodays.Errorf(prodays.EInvalid, "Send a multipart/form-data body with the file in the field \"file\".")
	}
	if fh.Size > limit {
		return tooLarge
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	user := "api"
	if p := principal(c); p != nil {
		user = p.Username
	}
	opts := prodays.ImportOptions{SkipInvalid: c.FormValue("skip_invalid") == "true", OverwriteLocalChanges: c.FormValue("overwrite_local_changes") == "true", MaxBytes: limit,
		MaxInflatedBytes: s.ImportMaxInflatedBytes, Username: user}
	rep, err := s.Importer.Import(req.Context(), f, filepath.Base(fh.Filename), kind, opts)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}
