package bot

import "time"

// BackoffFor is the worker's wait after the n-th failed attempt.
func (w *OutboxWorker) BackoffFor(n int) time.Duration { return w.backoff(n) }

// SetClock replaces the worker's clock.
func (w *OutboxWorker) SetClock(now func() time.Time) { w.now = now }
