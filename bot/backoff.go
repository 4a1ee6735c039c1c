package bot

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is the one policy for how long a retry waits: after the n-th failure in a
// row, Base·2^(n-1), at most Max, of which a random part between half and all ("equal
// jitter"), so that work that failed together does not come back together. Every loop
// that retries (the engine waiting for a conversation, the dispatcher, the outbox
// worker, the channels' pollers and token refreshers) waits through one.
type Backoff struct {
	Base, Max time.Duration
	// Steady leaves the jitter out, for a lone waiter that no other retries in step
	// with (a poll loop, a background store of one value): its waits are then exact.
	Steady bool
}

// Wait is the wait after the n-th failure in a row (n from 1).
func (b Backoff) Wait(n int) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	if b.Max > 0 {
		d = min(d, b.Max)
	}
	if b.Steady || d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// Sleep waits for d, or less when ctx ends (and then says why): every loop that waits
// between tries waits with it.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
