// Package derrors adds context to the errors of exported store and engine
// methods, for the reader of a log (after golang/pkgsite's
// internal/derrors).
package derrors

import "fmt"

// Wrap prefixes *errp, when it is not nil, with the call that failed:
// "format: err", e.g. "engine.Push(phone-7): begin: database is locked".
// Deferred at the top of a method with a named error result:
//
//	defer derrors.Wrap(&err, "engine.Push(%s)", req.DeviceID)
//
// The error stays in the chain (%w): errors.Is and errors.As see through
// it, so a *prodays.Error keeps its code and its safe message.
func Wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
	}
}
