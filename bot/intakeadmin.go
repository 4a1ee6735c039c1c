package bot

import (
	"errors"
	"time"
)

// This file holds what the intake's operators and its status callbacks see of the
// outbox: the index that finds the citizen behind a submission, and the lists of
// submissions waiting, refused or unreadable.

// ErrUnknownSubmission is returned for an id or reference the index (or the failed
// list) does not hold.
var ErrUnknownSubmission = errors.New("unknown submission")

// IndexedSubmission is what the index keeps of a submission: enough to find the
// citizen when the intake calls back.
type IndexedSubmission struct {
	ID           string          `json:"id"`
	Reference    string          `json:"reference"`
	Kind         string          `json:"kind"`
	Conversation ConversationRef `json:"conversation"`
}

// PendingSubmission is a submission in the outbox, with what is known of its attempts.
type PendingSubmission struct {
	Entry      string
	Submission Submission
	Attempts   DeliveryAttempts
}

// DeadEntry is an outbox entry that could not be read as a submission, set aside so
// that it blocks nothing, until an operator looks into it.
type DeadEntry struct {
	// Entry names it as OutboxItem.Entry did.
	Entry string `json:"entry"`
	// Fields are the stored entry's fields as they were.
	Fields map[string]string `json:"fields"`
	// Reason says why it could not be read.
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}
