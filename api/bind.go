package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"prodays"
)

// maxJSONBody is the default cap of a JSON request body (push has its own).
const maxJSONBody = 1 << 20

// bindJSON decodes the request body into v strictly: content type
// application/json, at most maxJSONBody bytes, valid UTF-8, no unknown
// fields, one JSON value. Errors are *prodays.Error (EUnsupported,
// ETooLarge, EInvalid) that say what is wrong.
func bindJSON(c echo.Context, v any) error {
	return decodeJSON(c, v, maxJSONBody)
}

func decodeJSON(c echo.Context, v any, limit int64) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return prodays.Errorf(prodays.EUnsupported, "Send the body as application/json.")
	}
	setBodyLimit(c, limit+1) // the route's own cap replaces the default one
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, limit+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &prodays.Error{Code: prodays.ETooLarge, Message: fmt.Sprintf("The body is over %d bytes.", limit), Detail: map[string]any{"max_bytes": limit}}
	}
	if err != nil {
		return prodays.Errorf(prodays.EInvalid, "Could not read the request body.")
	}
	if int64(len(body)) > limit {
		return &prodays.Error{Code: prodays.ETooLarge, Message: fmt.Sprintf("The body is over %d bytes.", limit), Detail: map[string]any{"max_bytes": limit}}
	}
	return unmarshalStrict(body, v)
}

// unmarshalStrict decodes one JSON value with no unknown fields.
func unmarshalStrict(body []byte, v any) error {
	if !utf8.Valid(body) {
		return prodays.Errorf(prodays.EInvalid, "The body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return prodays.Errorf(prodays.EInvalid, "Malformed JSON at byte %d.", se.Offset)
		case errors.As(err, &te):
			return prodays.Errorf(prodays.EInvalid, "Field %q: expected %s.", te.Field, te.Type)
		case errors.Is(err, io.EOF):
			return prodays.Errorf(prodays.EInvalid, "The body is empty.")
		default:
			return prodays.Errorf(prodays.EInvalid, "Invalid JSON: %s.", strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	if dec.More() {
		return prodays.Errorf(prodays.EInvalid, "The body holds more than one JSON value.")
	}
	return nil
}
