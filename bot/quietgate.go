package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// quietGate holds a lane's sends in quiet hours. Every sender of the lane and its
// claim loop wait on the one gate, so the log says once that the lane paused and once
// that it resumed, not once per message. A nil gate is always open.
type quietGate struct {
	hours interface{ Next(time.Time) time.Time }
	now   func() time.Time
	check time.Duration
	log   *slog.Logger

	mu     sync.Mutex
	paused bool
}

// wait returns at once outside quiet hours, else at their end, or when ctx ends.
func (g *quietGate) wait(ctx context.Context) error {
	if g == nil {
		return nil
	}
	for {
		now := g.now()
		end := g.hours.Next(now)
		if !end.After(now) {
			g.set(false, now)
			return nil
		}
		g.set(true, end)
		if err := Sleep(ctx, min(end.Sub(now), g.check)); err != nil {
			return err
		}
	}
}

// open reports whether a send may go now.
func (g *quietGate) open() bool {
	if g == nil {
		return true
	}
	now := g.now()
	return !g.hours.Next(now).After(now)
}

// set records whether the lane is paused, and says so when that changes; until is
// the end of the quiet hours when paused.
func (g *quietGate) set(paused bool, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused == paused {
		return
	}
	g.paused = paused
	if paused {
		g.log.Info("bulk messages held for quiet hours", "until", until)
	} else {
		g.log.Info("quiet hours over; bulk messages resume")
	}
}
