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

// DeviceQuery is review.DeviceQuery.
type DeviceQuery = review.DeviceQuery

// DeviceSummary is review.DeviceSummary.
type DeviceSummary = review.DeviceSummary

// DeviceList is review.DeviceList.
type DeviceList = review.DeviceList

// ActivityOfDay is review.ActivityOfDay.
type ActivityOfDay = review.ActivityOfDay

// NamedActivity is review.NamedActivity.
type NamedActivity = review.NamedActivity

// TraineeFacts is review.TraineeFacts.
type TraineeFacts = review.TraineeFacts

// TraineeHit is review.TraineeHit.
type TraineeHit = review.TraineeHit

// ReviewQuery is review.ReviewQuery.
type ReviewQuery = review.ReviewQuery

// ReviewItem is review.ReviewItem.
type ReviewItem = review.ReviewItem

// ReviewPage is review.ReviewPage.
type ReviewPage = review.ReviewPage

// BulkResult is review.BulkResult.
type BulkResult = review.BulkResult

// UploadClock is review.UploadClock.
type UploadClock = review.UploadClock
