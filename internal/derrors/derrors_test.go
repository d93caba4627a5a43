package derrors_test

import (
	"errors"
	"testing"

	"prodays"
	"prodays/internal/derrors"
)

func TestWrap(t *testing.T) {
	t.Run("nil stays nil", func(t *testing.T) {
		var err error
		derrors.Wrap(&err, "f(%d)", 1)
		if err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
	t.Run("context and chain", func(t *testing.T) {
		cause := prodays.Errorf(prodays.ENotFound, "No flag 7.")
		var err error = cause
		derrors.Wrap(&err, "engine.DecideFlag(%d)", 7)
		if got, want := err.Error(), "engine.DecideFlag(7): "+cause.Error(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if !errors.Is(err, cause) || prodays.ErrorCode(err) != prodays.ENotFound || prodays.ErrorMessage(err) != "No flag 7." {
			t.Errorf("the wrapped error lost its code or message: %v", err)
		}
	})
}
