package bot

import (
	"context"
	"time"
)

// Outbox is the durable queue of confirmed submissions waiting for the city's intake.
// Store.Commit puts submissions in; workers in any gateway process take them out.
type Outbox interface {
	// Claim returns up to n submissions for this consumer: new ones, and ones another
	// consumer took more than idle ago without acknowledging (it died). It waits up to
	// block when there are none.
	Claim(ctx context.Context, consumer string, n int, idle, block time.Duration) ([]OutboxItem, error)
	// Ack removes a delivered submission from the outbox.
	Ack(ctx context.Context, item OutboxItem) error
}

// OutboxItem is a claimed submission.
type OutboxItem struct {
	// Entry identifies the item in the outbox (the store's own id).
	Entry      string
	Submission Submission
	// Deliveries counts how often the item was claimed, this time included.
	Deliveries int64
}

// Intake is the city's system of record: integrations/intake implements it.
type Intake interface {
	// Deliver hands the submission over. Delivering the same submission ID twice
	// must keep one (the intake deduplicates on it).
	Deliver(ctx context.Context, s Submission) (Receipt, error)
}

// Receipt is the intake's answer to a delivered submission.
type Receipt struct {
	IntakeID string
	Status   string
	// Token is the server's acknowledgement before it filed the request (an Open311
	// token not yet resolved to an id): proof of receipt for the logs, but nothing the
	// citizen could quote, so it is kept apart from IntakeID.
	Token string
}
