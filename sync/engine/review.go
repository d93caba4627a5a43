package engine

import (
	"prodays"
	"prodays/sync/review"
)

// Review error codes, from the registry (prodays.Codes).
const (
	// EReviewPending is prodays.EReviewPending: open flags and pending
	// merges block a close.
	EReviewPending = prodays.EReviewPending
	// EAlreadyDecided is prodays.EAlreadyDecided.
	EAlreadyDecided = prodays.EAlreadyDecided
)

// Flag is review.Flag.
type Flag = review.Flag

// Conflict is review.Conflict.
type Conflict = review.Conflict

// QuarantinedMutation is review.QuarantinedMutation.
type QuarantinedMutation = review.QuarantinedMutation

// MergeProposal is review.MergeProposal.
type MergeProposal = review.MergeProposal

// Device is review.Device.
type Device = review.Device
