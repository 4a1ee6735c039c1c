package bot

import (
	"context"
	"errors"
	"time"
)

// Outbox is the durable queue of confirmed submissions waiting for the city's intake,
// as one outbox worker sees it: work to claim, then to acknowledge, retry later or
// fail. Store.Commit puts submissions in; workers in any gateway process take them out.
// Who holds what (and for how long a dead worker's claims wait) is the outbox's own
// business.
type Outbox interface {
	// Claim returns up to n submissions for this worker, each with what is known of its
	// earlier attempts: new ones, ones whose retry is due, and ones another worker
	// claimed and stopped renewing (it died). It waits a moment when there are none.
	Claim(ctx context.Context, n int) ([]OutboxItem, error)
	// Renew keeps the worker's claim on items while it works on them, and reports, in
	// order, whether each is still its own: false when another worker took it over
	// meanwhile, or it left the outbox.
	Renew(ctx context.Context, items []OutboxItem) ([]bool, error)
	// Index records the submission's conversation and reference, for the intake's
	// callbacks, before it is delivered. Recording it again is harmless.
	Index(ctx context.Context, s Submission) error
	// Ack removes a delivered submission from the outbox. Ack, Retry and Fail refuse,
	// with an error wrapping ErrClaimLost and changing nothing, an item whose claim the
	// worker no longer has.
	Ack(ctx context.Context, item OutboxItem) error
	// Retry gives the submission back, to be claimed again from a.Next (at the latest
	// when a claim left alone would be), and remembers a.
	Retry(ctx context.Context, item OutboxItem, a DeliveryAttempts) error
	// Fail moves the submission to the failed list, whole, and out of the outbox, in one
	// step: nothing is dropped and nothing is delivered twice.
	Fail(ctx context.Context, item OutboxItem, f SubmissionFailure) error
}

// Outboxes opens a worker's view of the outbox: bot/redisstore.Store implements it.
// idle is the lease period of the worker's claims (the store may bound it): a claim
// the worker stops renewing is handed to another worker after idle. A Claim with
// nothing to give waits up to block.
type Outboxes interface {
	Outbox(worker string, idle, block time.Duration) Outbox
}

// OutboxItem is a claimed submission.
type OutboxItem struct {
	// Entry identifies the item in the outbox (the store's own id).
	Entry      string
	Submission Submission
	// Deliveries counts how often the item was claimed, this time included.
	Deliveries int64
	// Attempts is what is known of earlier attempts; zero for an item never tried.
	Attempts DeliveryAttempts
	// Fence is the claim it was handed out under (the outbox's own token): Renew, Ack,
	// Retry and Fail check it, so that a worker whose claim was taken over cannot
	// acknowledge it.
	Fence string
}

// ErrClaimLost is wrapped by the error of an Ack, Retry or Fail made under a claim
// the worker no longer has (it ran out, and another worker may have taken the item
// over): nothing was changed, and the item is someone else's now. The outbox and the
// delivery queue both say it.
var ErrClaimLost = errors.New("claim lost")

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
