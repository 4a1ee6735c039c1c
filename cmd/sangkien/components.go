package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// shutdownTimeout bounds a graceful stop: in-flight requests, the channels, the outbox
// worker and the rest, all together.
const shutdownTimeout = 10 * time.Second

// lateGrace is how long a loop may take to stop once the shutdown deadline has passed.
const lateGrace = 100 * time.Millisecond

// components are the running parts of a command, in the order they started. serve and
// chat add each part once it runs; stop ends them in reverse, so that nothing stops
// before what depends on it (the HTTP server before the channels, everything before
// Redis closes).
type components struct {
	log   *slog.Logger
	parts []component
}

type component struct {
	name string
	stop func(ctx context.Context) error
}

// add records a started part and how to stop it.
func (c *components) add(name string, stop func(ctx context.Context) error) {
	c.parts = append(c.parts, component{name: name, stop: stop})
}

// run starts loop on a goroutine of its own, with a context that only stop cancels: a
// signal stops the command through stop, in order, not every loop at once.
func (c *components) run(name string, loop func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop(ctx)
	}()
	c.add(name, func(stopCtx context.Context) error {
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

// stop stops every part in reverse order within timeout and returns their errors.
// A part that runs out of time is left behind and the next one stops all the same.
func (c *components) stop(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	for i := len(c.parts) - 1; i >= 0; i-- {
		p := c.parts[i]
		if err := p.stop(ctx); err != nil {
			c.log.Warn("stopping", "component", p.name, "err", err)
			errs = append(errs, err)
		}
	}
	c.parts = nil
	return errors.Join(errs...)
}
