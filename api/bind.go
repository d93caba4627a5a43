package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"prodays"
	"prodays/internal/strictjson"
)

// maxJSONBody is the default cap of a JSON request body (push has its own).
const maxJSONBody = 1 << 20

// bindJSON decodes the request body into v strictly: content type
// application/json, at most maxJSONBody bytes, valid UTF-8, no unknown
// fields, keys matched case-sensitively and never repeated, one JSON
// value. Errors are *prodays.Error (EUnsupported,
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

// unmarshalStrict decodes one JSON value strictly (strictjson.Unmarshal):
// keys match field names exactly (case included), each key once per
// object, no unknown fields, valid UTF-8. Errors are EInvalid
// *prodays.Error: "Invalid JSON body: duplicate key "id"." and the like.
func unmarshalStrict(body []byte, v any) error {
	if err := strictjson.Unmarshal(body, v); err != nil {
		return prodays.Errorf(prodays.EInvalid, "Invalid JSON body: %s", err)
	}
	return nil
}
