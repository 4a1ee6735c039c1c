package bot

import "time"

// BackoffFor is the worker's wait after the n-th failed attempt.
func (w *OutboxWorker) BackoffFor(n int) time.Duration { return w.backoff(n) }
