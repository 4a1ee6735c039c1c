package bot

import (
	"context"
	"time"
)

// DeliveryQueue is the durable queue of one channel's replies (Store.Commit fills it), as
// one sending process sees it: replies to claim, then to acknowledge or fail. Which
// process sends which conversation's replies, and how soon another takes over from a
// process that stopped or died, is the queue's own business: it gives each
// conversation's replies to one process at a time, in order.
//
// A reply that fails and may be tried again stays with its claimer, which retries it
// itself: the replies after it in its conversation must wait for it, so giving it back
// to the queue would only lose their order.
type DeliveryQueue interface {
	// Claim returns up to n replies for this process, in order within each
	// conversation: first those a former holder claimed but never finished, then new
	// ones. With none, it waits a moment and returns none.
	Claim(ctx context.Context, n int) ([]Delivery, error)
	// Ack removes a sent reply from the queue. It fails, wrapping ErrClaimLost, when
	// this process no longer holds the reply (see Delivery.Lost).
	Ack(ctx context.Context, d Delivery) error
	// Fail removes a reply that cannot be sent and keeps a failure record of it; it
	// fails as Ack does.
	Fail(ctx context.Context, d Delivery, f DeliveryFailure) error
	// Close gives back at once what this process holds, and leaves the live senders:
	// the others take its conversations over without waiting for its hold to run out.
	// Replies claimed and not finished go to their next holder. Call it once the sends
	// have ended.
	Close(ctx context.Context) error
}

// Delivery is one queued reply, claimed by a process.
type Delivery struct {
	Channel Channel
	// Entry and Fence identify the reply and the hold it was claimed under (the
	// queue's own ids).
	Entry    string
	Fence    string
	QueuedAt time.Time
	Outbound Outbound
	// Lost is closed when the process no longer holds the reply (its hold ran out, or
	// could not be renewed in time, or another process took it over): the send must
	// stop, and the reply is left to its new holder.
	Lost <-chan struct{}
}

// DeliveryFailure is what is kept of a reply that could not be delivered, for operators:
// which reply, to whom, and why; not its text (the transcript has it).
type DeliveryFailure struct {
	Outbound Outbound `json:"outbound"`
	Failure  string   `json:"failure"`
	Code     int      `json:"code,omitempty"`
	Detail   string   `json:"detail,omitempty"`
	// Skip, for a bulk message, is why its recipient was skipped (the Skip constants):
	// counted apart from the failures to look into.
	Skip     string    `json:"skip,omitempty"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// What became of a tracked reply (Outbound.Track): queued until its sender finished
// with it, then sent or failed.
const (
	DeliveryQueued = "queued"
	DeliverySent   = "sent"
	DeliveryFailed = "failed"
)

// DeliveryState is what the console shows beside a staff member's reply.
type DeliveryState struct {
	State string `json:"state"`
	// Failure and Detail say why a failed reply was not delivered (DeliveryFailure's).
	Failure string    `json:"failure,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	At      time.Time `json:"at,omitzero"`
}

// RateLimiter is a limit shared by every gateway process: at most limit sends in any
// window. Reserve counts one send and returns 0, or, when the limit is reached, counts
// nothing and returns how long to wait before asking again.
type RateLimiter interface {
	Reserve(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error)
}

// RatePauser is a RateLimiter that can hold every send under a limit for a while, in
// every process: a provider that answers one bulk message "too many, wait" (Telegram's
// 429 and its retry_after) speaks of the bot as a whole, not of that message.
type RatePauser interface {
	Pause(ctx context.Context, key string, d time.Duration) error
}

// EventHandler runs an event through the conversation: the Engine implements it. The
// dispatcher and the outbox worker hand it what they learn that the conversation must
// know (a citizen gone, a submission received), as events of their own.
type EventHandler interface {
	Handle(ctx context.Context, ev Event) (Outcome, error)
}

// Attempter is a bulk DeliveryQueue that records a broadcast's recipients as their
// message is first tried, so that each is tried at most once per broadcast whatever
// crashes: Attempt reports false when the recipient was tried already (by a process
// killed with kill -9 while the message was on its way, say). The message is then
// finished without another try: a second copy is worse than the one the dead process
// most likely sent.
type Attempter interface {
	Attempt(ctx context.Context, d Delivery) (bool, error)
}

// BulkGate decides, as a bulk message's turn comes, whether it still goes: the citizen
// may have said stop, erased their data or left the channel since it was queued, hours
// earlier perhaps (the quiet hours hold it). It returns the message to send (o itself,
// or one the channel can still deliver to them, such as a Zalo template message), or
// the reason (a Skip constant) to leave them out. An error is the store's: the message
// is asked about again.
type BulkGate interface {
	Admit(ctx context.Context, o Outbound) (Outbound, string, error)
}

// Typer is a Sender that can show the citizen that a reply is on its way; the
// dispatcher uses it when a reply has to wait a moment for its turn.
type Typer interface {
	ShowTyping(ctx context.Context, conv ConversationRef) error
}
