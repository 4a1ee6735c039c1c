package terminal

import (
	"context"
	"sync"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// Watch wraps in, the intake the outbox worker delivers to.
func Watch(in bot.Intake) *WatchedIntake {
	return &WatchedIntake{Intake: in, done: map[string]bool{}, changed: make(chan struct{}, 1)}
}

// WatchedIntake tells a chat which submissions reached the intake, so that it can wait
// for them before it exits.
type WatchedIntake struct {
	bot.Intake
	mu      sync.Mutex
	done    map[string]bool
	changed chan struct{}
}

func (w *WatchedIntake) Deliver(ctx context.Context, s bot.Submission) (bot.Receipt, error) {
	r, err := w.Intake.Deliver(ctx, s)
	if err == nil {
		w.mu.Lock()
		w.done[s.ID] = true
		w.mu.Unlock()
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
	return r, err
}

// Wait waits up to timeout for every id to be delivered and returns how many were.
func (w *WatchedIntake) Wait(ctx context.Context, ids []string, timeout time.Duration) int {
	bound := time.NewTimer(timeout)
	defer bound.Stop()
	for {
		w.mu.Lock()
		n := 0
		for _, id := range ids {
			if w.done[id] {
				n++
			}
		}
		w.mu.Unlock()
		if n == len(ids) {
			return n
		}
		select {
		case <-w.changed:
		case <-bound.C:
			return n
		case <-ctx.Done():
			return n
		}
	}
}
