package prodays

import "time"

// ReplicaStatus is the state of one replica, as /readyz and the metrics show it.
type ReplicaStatus struct {
	// URL names the replica, without credentials or query (safe to log).
	URL string `json:"url"`
	// OK is false while the last call to the replica failed.
	OK bool `json:"ok"`
	// Error is the last failure's text while !OK.
	Error string `json:"error,omitempty"`
	// Lag is how long the oldest local transaction not yet on the replica
	// has been waiting (0 when the replica has everything Litestream saw).
	Lag time.Duration `json:"-"`
	// LagSeconds is Lag in seconds (JSON).
	LagSeconds float64 `json:"lag_seconds"`
	// LastSuccess is when the replica last took an upload, or answered a
	// listing while no upload was failing (zero before the first).
	LastSuccess time.Time `json:"last_success,omitzero"`
}
