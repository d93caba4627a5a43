// Package uuid7 makes the reproducible UUIDv7 ids of replayed and seeded
// mutations. It imports no test support: the prodays binary uses it
// (prodays simulate).
package uuid7

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Derived returns a time-ordered UUIDv7 (RFC 9562) as the app makes them:
// clock in Unix milliseconds in the first 48 bits, then, instead of random
// bits, bits of a SHA-1 of device and seq, so that the same (clock,
// device, seq) always gives the same id. The result is the canonical
// lower-case 36-character form.
func Derived(clock time.Time, device string, seq int64) string {
	h := uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprintf("%s/%d", device, seq)))
	var u uuid.UUID
	ms := uint64(clock.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	copy(u[6:], h[6:])
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return u.String()
}
