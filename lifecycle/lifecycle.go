// Package lifecycle starts a command's parts in order and stops them in reverse,
// within one deadline, so that nothing stops before what depends on it.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ShutdownTimeout bounds a graceful stop: in-flight requests, the channels, the outbox
// worker and the rest, all together.
const ShutdownTimeout = 10 * time.Second

// lateGrace is how long a loop may take to stop once the shutdown deadline has passed.
const lateGrace = 100 * time.Millisecond

// Parts are the running parts of a command, in the order they started. serve and chat
// add each part once it runs; Stop ends them in reverse, so that nothing stops before
// what depends on it (the HTTP server before the channels, everything before Redis
// closes).
type Parts struct {
	Log   *slog.Logger
	parts []part
}

type part struct {
	name string
	stop func(ctx context.Context) error
}

// Add records a started part and how to stop it.
func (c *Parts) Add(name string, stop func(ctx context.Context) error) {
	c.parts = append(c.parts, part{name: name, stop: stop})
}

// Run starts loop on a goroutine of its own, with a context that only Stop cancels: a
// signal stops the command through Stop, in order, not every loop at once.
func (c *Parts) Run(name string, loop func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop(ctx)
	}()
	c.Add(name, func(stopCtx context.Context) error {
		cancel()
		select {
		case <-done:
			return nil
		case <-stopCtx.Done():
		}
		// A part before this one may have used the whole deadline up: a loop that
		// stops at once still gets the moment it needs.
		select {
		case <-done:
			return nil
		case <-time.After(lateGrace):
			return fmt.Errorf("%s did not stop in time", name)
		}
	})
}

// Stop stops every part in reverse order within timeout and returns their errors.
// A part that runs out of time is left behind and the next one stops all the same.
func (c *Parts) Stop(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	for i := len(c.parts) - 1; i >= 0; i-- {
		p := c.parts[i]
		if err := p.stop(ctx); err != nil {
			c.Log.Warn("stopping", "component", p.name, "err", err)
			errs = append(errs, err)
		}
	}
	c.parts = nil
	return errors.Join(errs...)
}
