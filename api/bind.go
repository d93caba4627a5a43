package api

import (
	"bytes"
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

// jsonHandler is the handler of a route whose request is a JSON body: it
// decodes the body into a Req (bindJSON), calls do with it and answers
// do's result with status, or returns do's error (answer).
func jsonHandler[Req, Out any](status int, do func(c echo.Context, req Req) (Out, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req Req
		if err := bindJSON(c, &req); err != nil {
			return err
		}
		out, err := do(c, req)
		return answer(c, status, out, err)
	}
}

// jsonAction is jsonHandler for an action that answers 204 No Content.
func jsonAction[Req any](act func(c echo.Context, req Req) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req Req
		if err := bindJSON(c, &req); err != nil {
			return err
		}
		return noContent(c, act(c, req))
	}
}

// noContent answers 204 No Content, or returns err.
func noContent(c echo.Context, err error) error {
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

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
	if !isJSON(mediaType(c)) {
		return prodays.Errorf(prodays.EUnsupported, "Send the body as application/json.")
	}
	setDefaultBodyLimit(c, limit+1) // replaces the default cap, not a route's own
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, limit+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		limit = min(limit, mbe.Limit) // a route's own cap may be lower (the logins')
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

// mediaType returns the media type of the request's Content-Type, ""
// when there is none or it does not parse.
func mediaType(c echo.Context) string {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil {
		return ""
	}
	return mt
}

// isJSON reports whether media type mt is application/json or a +json type.
func isJSON(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// unmarshalStrict decodes one JSON value strictly (strictjson.Unmarshal):
// keys match field names exactly (case included), each key once per
// object, no unknown fields, valid UTF-8, and not null (which
// encoding/json would take for an empty request). Errors are EInvalid
// *prodays.Error: "Invalid JSON body: duplicate key "id"." and the like.
func unmarshalStrict(body []byte, v any) error {
	if string(bytes.TrimSpace(body)) == "null" {
		return prodays.Errorf(prodays.EInvalid, "Invalid JSON body: null is not a request.")
	}
	if err := strictjson.Unmarshal(body, v); err != nil {
		return prodays.Errorf(prodays.EInvalid, "Invalid JSON body: %s", err)
	}
	return nil
}
