package bot

import (
	"context"
	"time"
)

// DeliveryQueue is the durable queue of one channel's replies (Store.Commit fills it).
// It is split in shards; one consumer at a time owns a shard (a lease in the store),
// which keeps each conversation's replies in order while different processes send for
// different shards.
type DeliveryQueue interface {
	// Shards is the number of shards, numbered from 0.
	Shards() int
	// Heartbeat records the consumer as alive and returns how many consumers are.
	Heartbeat(ctx context.Context, ch Channel, consumer string, ttl time.Duration) (alive int, err error)
	// Leave counts the consumer gone at once: it stopped cleanly.
	Leave(ctx context.Context, ch Channel, consumer string) error
	// Own takes the shard for the consumer, or renews its hold, for ttl. It reports false
	// when another consumer holds it, or the consumer's hold ran out since it was renewed.
	Own(ctx context.Context, ch Channel, shard int, consumer string, ttl time.Duration) (bool, error)
	// Disown gives a held shard back at once.
	Disown(ctx context.Context, ch Channel, shard int, consumer string) error
	// Read returns up to n entries of a shard the consumer owns, in queue order: first
	// those a former owner read but never finished, then new ones.
	Read(ctx context.Context, ch Channel, shard int, consumer string, n int) ([]Delivery, error)
	// Done removes a sent entry from the queue. It fails when the shard is no longer
	// owned under the hold the entry was read with.
	Done(ctx context.Context, d Delivery) error
	// Fail removes an entry that cannot be sent and keeps a failure record of it; it
	// fails as Done does.
	Fail(ctx context.Context, d Delivery, f DeliveryFailure) error
}

// Delivery is one queued reply, read by a consumer.
type Delivery struct {
	Channel  Channel
	Shard    int
	Entry    string // the queue's own id
	Fence    string // the hold on the shard it was read under (the queue's own token)
	QueuedAt time.Time
	Outbound Outbound
}

// DeliveryFailure is what is kept of a reply that could not be delivered, for operators:
// which reply, to whom, and why; not its text (the transcript has it).
type DeliveryFailure struct {
	Outbound Outbound  `json:"outbound"`
	Failure  string    `json:"failure"`
	Code     int       `json:"code,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// RateLimiter is a limit shared by every gateway process: at most limit sends in any
// window. Reserve counts one send and returns 0, or, when the limit is reached, counts
// nothing and returns how long to wait before asking again.
type RateLimiter interface {
	Reserve(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error)
}

// EventHandler runs an event through the conversation: the Engine implements it. The
// dispatcher and the outbox worker hand it what they learn that the conversation must
// know (a citizen gone, a submission received), as events of their own.
type EventHandler interface {
	Handle(ctx context.Context, ev Event) (Outcome, error)
}

// Typer is a Sender that can show the citizen that a reply is on its way; the
// dispatcher uses it when a reply has to wait a moment for its turn.
type Typer interface {
	ShowTyping(ctx context.Context, conv ConversationRef) error
}
