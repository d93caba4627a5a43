package api

import (
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"prodays"
	"prodays/importer"
)

// multipartSlack is what a multipart body may hold beyond the file itself
// (boundaries, part headers, the skip_invalid field).
const multipartSlack = 64 << 10

// importFile is POST /api/v1/admin/import/:kind (admin only): it imports
// one file of the office (CSV or XLSX, by the upload's file name) sent as
// the multipart form field "file"; the form field skip_invalid=true
// imports the valid rows of a file with errors. It answers 200 with the
// importer.Report as JSON; 422 (code import_invalid) when the file has
// errors and nothing was imported, the per-line errors in the "errors"
// member; 413 (too_large) over Server.ImportMaxBytes; 400 for a bad kind
// or form.
func (s *Server) importFile(c echo.Context) error {
	kind := c.Param("kind")
	if !slices.Contains(importer.Kinds, kind) {
		return prodays.Errorf(prodays.EInvalid, "Unknown import kind %q: want one of %s.", kind, strings.Join(importer.Kinds, ", "))
	}
	limit := s.ImportMaxBytes
	if limit <= 0 {
		limit = importer.DefaultMaxBytes
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
	opts := importer.Options{SkipInvalid: c.FormValue("skip_invalid") == "true", MaxBytes: limit, Username: user}
	rep, err := importer.Import(req.Context(), s.DB, f, filepath.Base(fh.Filename), kind, opts)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}
