package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// ConversationCap bounds how many conversations one sender may open per Window on a
// channel where an id costs nothing (web chat: a new browser session is a new id), so
// that a script cannot fill Redis and the console's inbox with empty conversations.
// It counts with the delivery's shared limiter (RateLimiter): one exact sliding window
// per channel and sender, in every process at once. The sender is hashed into the
// limiter's key, so no address or device id is written as it is (an IPv4 address can
// still be found again from its hash by trying them all: the key is not a secret).
type ConversationCap struct {
	Limiter RateLimiter
	Channel Channel
	// Limit conversations per Window (defaults 10 and an hour).
	Limit  int
	Window time.Duration
}

// Open counts one new conversation from sender (what the channel knows of who is behind
// it: a client address's clientaddr.Key, a device cookie) and reports whether it may
// open; when it may not, wait is how long until one more may. When the limiter fails
// or the cap is not configured, Open lets the conversation open, and returns the error
// for the caller to log: a citizen is not turned away because Redis hiccupped.
func (c ConversationCap) Open(ctx context.Context, sender string) (ok bool, wait time.Duration, err error) {
	if c.Limiter == nil || c.Channel == "" || sender == "" {
		return true, 0, errors.New("conversation cap: limiter, channel and sender are required")
	}
	limit, window := c.Limit, c.Window
	if limit <= 0 {
		limit = 10
	}
	if window <= 0 {
		window = time.Hour
	}
	sum := sha256.Sum256([]byte(sender))
	key := "newconv:" + string(c.Channel) + ":" + hex.EncodeToString(sum[:12])
	wait, err = c.Limiter.Reserve(ctx, key, limit, window)
	if err != nil {
		return true, 0, err
	}
	return wait <= 0, max(wait, 0), nil
}
