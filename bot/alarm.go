package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Alarm logs a condition that repeats (Redis down, refused requests, a revoked
// permission) once when it starts, counts it while it lasts, and logs once more when it
// ends, with the count: an operator reads two lines, not one per request or citizen.
// Every part that could flood the log with one line per request, shard or citizen uses
// one.
type Alarm struct {
	log   *slog.Logger
	level slog.Level
	now   func() time.Time

	mu    sync.Mutex
	on    bool
	since time.Time
	count int
}

// NewAlarm returns an alarm that logs at level on log; now is the clock (nil: time.Now).
func NewAlarm(log *slog.Logger, level slog.Level, now func() time.Time) *Alarm {
	if now == nil {
		now = time.Now
	}
	return &Alarm{log: log, level: level, now: now}
}

// Raise counts one occurrence and logs msg the first time since the alarm was last
// cleared. It reports whether it logged.
func (a *Alarm) Raise(msg string, args ...any) bool {
	a.mu.Lock()
	first := !a.on
	if first {
		a.on, a.since, a.count = true, a.now(), 0
	}
	a.count++
	a.mu.Unlock()
	if first {
		a.log.Log(context.Background(), a.level, msg, args...)
	}
	return first
}

// Clear ends the condition; when it was raised, msg is logged at INFO with how many
// times it happened and for how long.
func (a *Alarm) Clear(msg string, args ...any) {
	a.mu.Lock()
	on, count, since := a.on, a.count, a.since
	a.on = false
	a.mu.Unlock()
	if on {
		a.log.Info(msg, append(args, "occurrences", count, "lasted", a.now().Sub(since).Round(time.Second))...)
	}
}

// On reports whether the condition is raised and not yet cleared.
func (a *Alarm) On() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.on
}
