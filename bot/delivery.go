package bot

import (
	"context"
	"time"
)

// DeliveryQueue is the durable queue of one channel's replies (Store.Commit fills it).
// It is split in shards; one consumer at a time owns a shard, which keeps each
// conversation's replies in order while different processes send for different shards.
type DeliveryQueue interface {
	// Shards is the number of shards, numbered from 0.
	Shards() int
	// Heartbeat records the consumer as alive and returns how many consumers are.
	Heartbeat(ctx context.Context, ch Channel, consumer string, ttl time.Duration) (alive int, err error)
	// Own takes the shard for the consumer, or renews its hold, for ttl. It reports false
	// when another consumer holds it.
	Own(ctx context.Context, ch Channel, shard int, consumer string, ttl time.Duration) (bool, error)
	// Disown gives a held shard back.
	Disown(ctx context.Context, ch Channel, shard int, consumer string) error
	// Reclaim takes over, in queue order, the entries of the shard that were read but
	// never finished (by a consumer that died or gave the shard up). Start with cursor
	// "0-0"; it is done when the returned cursor is "0-0" again.
	Reclaim(ctx context.Context, ch Channel, shard int, consumer, cursor string, n int) ([]Delivery, string, error)
	// Read returns up to n new entries of the shard, in queue order.
	Read(ctx context.Context, ch Channel, shard int, consumer string, n int) ([]Delivery, error)
	// Done removes a sent entry from the queue.
	Done(ctx context.Context, d Delivery) error
	// Fail removes an entry that cannot be sent and keeps a failure record of it.
	Fail(ctx context.Context, d Delivery, f DeliveryFailure) error
}

// Delivery is one queued reply, read by a consumer.
type Delivery struct {
	Channel  Channel
	Shard    int
	Entry    string // the queue's own id
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

// Typer is a Sender that can show the citizen that a reply is on its way; the
// dispatcher uses it when a reply has to wait a moment for its turn.
type Typer interface {
	ShowTyping(ctx context.Context, conv ConversationRef) error
}
