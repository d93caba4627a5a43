package prodays

import (
	"errors"
	"fmt"
)

// Error is an error whose Code is stable (one of the registry's problem
// codes, see Codes) and whose Message is safe to show to the user. Any
// other error is internal: logged, never shown.
type Error struct {
	Code    string
	Message string
	// Detail carries structured extras (for example the limits in a 413, or
	// the per-line errors of an import); it is rendered as extension members
	// of the problem+json body.
	Detail map[string]any
}

func (e *Error) Error() string {
	return fmt.Sprintf("prodays error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error in err's chain, EInternal for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	code, _ := codeAndMessage(err)
	return code
}

// ErrorMessage returns the message of the *Error in err's chain, or a
// generic message for any other error.
func ErrorMessage(err error) string {
	_, message := codeAndMessage(err)
	return message
}

// codeAndMessage returns the code and message of err: those of the *Error
// in its chain, EInternal and a generic message for any other error, ""
// for nil.
func codeAndMessage(err error) (code, message string) {
	var e *Error
	if err == nil {
		return "", ""
	} else if errors.As(err, &e) {
		return e.Code, e.Message
	}
	return EInternal, "Internal error."
}
