package bot

import "time"

// Hooks for the engine tests in package bot_test.

// OnQueued is called once an event has taken its place in its conversation's line.
func (e *Engine) OnQueued(f func(Event)) { e.queued = f }

// BeforeCommit is called between an event's load and its commit; an error from it
// fails the event as a failed step would.
func (e *Engine) BeforeCommit(f func(Event) error) { e.beforeCommit = f }

// Crash makes the engine stop dead after loading an event, as a killed process would:
// it neither commits nor gives the lock back.
func (e *Engine) Crash(f func(Event) bool) { e.crash = f }

// BackoffFor is the worker's wait after the n-th failed attempt.
func (w *OutboxWorker) BackoffFor(n int) time.Duration { return w.backoff(n) }
