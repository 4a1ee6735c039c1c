package telegram

import (
	"context"
	"errors"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/logging"
)

// pollBackoffMax caps the wait between failed polls.
const pollBackoffMax = 30 * time.Second

// pollBackoff paces failed polls: one poller, so no jitter.
var pollBackoff = bot.Backoff{Base: 500 * time.Millisecond, Max: pollBackoffMax, Steady: true}

// Poll runs polling mode for local trials: it deletes the webhook, then long-polls
// getUpdates (waiting up to timeout seconds per call) and runs each update through
// w.Process, the webhook's own path. An update the engine failed on is asked for again
// (the offset stays on it) after a back-off. Poll returns nil when ctx ends.
func Poll(ctx context.Context, c *Client, w *Webhook, timeout int) error {
	if err := c.DeleteWebhook(ctx); err != nil {
		return err
	}
	var offset int64
	failures := 0
	wait := time.Duration(0)
	for {
		if wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		ups, err := c.GetUpdates(ctx, offset, int64(timeout))
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			failures++
			wait = pollWait(failures, err)
			w.log.Warn("getUpdates failed", "err", err, "retry_in", wait)
			continue
		}
		wait, failures = 0, 0
		for _, u := range ups {
			// Each update its own request id, as a webhook request has.
			if err := w.Process(logging.WithRequestID(ctx, logging.NewRequestID()), u); err != nil {
				failures++
				wait = pollWait(failures, err)
				break
			}
			// An update without a readable update_id (Process logged it) cannot move the
			// offset; the next readable one moves it past.
			if id, ok := updateID(u); ok {
				offset = id + 1
			}
		}
	}
}

// updateID reads an update's update_id.
func updateID(raw json.RawMessage) (int64, bool) {
	u, err := decodeUpdate(raw)
	if err != nil {
		return 0, false
	}
	return *u.ID, true
}

// pollWait is the wait after the n-th failure in a row: pollBackoff, or exactly as long
// as a 429 asked.
func pollWait(n int, err error) time.Duration {
	var se *bot.SendError
	if errors.As(err, &se) && se.Failure == bot.RateLimited {
		return se.RetryAfter
	}
	return pollBackoff.Wait(n)
}
