package bot

import (
	"context"
	"fmt"
	"time"
)

// Sender draws and sends one reply on a channel. integrations/<channel> implements it.
// Failures are returned as *SendError so the delivery queue knows what to do next.
type Sender interface {
	Send(ctx context.Context, o Outbound) error
}

// SendFailure classifies a failed send.
type SendFailure int

// What a failed send means for the delivery queue.
const (
	// Retryable: network error, 5xx; back off and try again a bounded number of times.
	Retryable SendFailure = iota
	// RateLimited: the provider said to wait RetryAfter before trying the same message again.
	RateLimited
	// Permanent: the request itself is wrong (400, chat not found); do not retry.
	Permanent
	// Gone: the citizen blocked the bot or left; mark them unreachable, do not retry.
	Gone
	// Held: the provider refuses for now (a quiet-hours window, a quota); retry at RetryAfter.
	Held
)

func (f SendFailure) String() string {
	switch f {
	case Retryable:
		return "retryable"
	case RateLimited:
		return "rate-limited"
	case Permanent:
		return "permanent"
	case Gone:
		return "gone"
	case Held:
		return "held"
	}
	return fmt.Sprintf("failure(%d)", int(f))
}

// SendError is a failed send with its meaning. Detail is the provider's description
// (never a token, never the citizen's text).
type SendError struct {
	Failure    SendFailure
	RetryAfter time.Duration
	// RetryFor bounds a Retryable or RateLimited failure whose answer may mean "down for
	// now" as well as "refused" (Open311's 400, "General Service Error"): once the first
	// attempt is this old, it counts as Permanent. Zero means no bound.
	RetryFor time.Duration
	Code     int
	Detail   string
	// Skip, for a Gone failure, is its Skip constant when the channel knows better
	// than the dispatcher's default for it (SkipBlocked; SkipUnfollowed on Zalo).
	Skip string
	Err  error
}

func (e *SendError) Error() string {
	s := fmt.Sprintf("send %s (code %d): %s", e.Failure, e.Code, e.Detail)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(", retry after %s", e.RetryAfter)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *SendError) Unwrap() error { return e.Err }
