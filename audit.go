package prodays

import (
	"context"
	"time"
)

// Actor is who makes the changes of a request, for the audit log: the
// API puts it in the request's context (WithActor) once the caller is
// authenticated, so that every entry written while serving the request
// names the device and address, whichever store function writes it.
type Actor struct {
	Username string
	DeviceID string
	Address  string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the Actor in ctx (zero when none).
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// AuditFilter selects audit entries; empty fields match everything. From
// and To bound At (inclusive, exclusive).
type AuditFilter struct {
	Username string
	Action   string // exact action, or a prefix ending in "." ("auth.")
	From, To time.Time
	Limit    int // default 100, at most 1000
	BeforeID int64
}

// AuditEntry is one line of the audit log: who (username, device,
// address), what (action, target) and a JSON detail.
type AuditEntry struct {
	ID       int64          `json:"id"`
	At       time.Time      `json:"at"`
	Username string         `json:"username"`
	DeviceID string         `json:"device_id,omitempty"`
	Address  string         `json:"address,omitempty"`
	Action   string         `json:"action"`
	Target   string         `json:"target,omitempty"`
	Detail   map[string]any `json:"detail,omitempty"`
}
