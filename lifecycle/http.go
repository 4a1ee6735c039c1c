package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServeHTTP serves h on ln and adds the server as the part "http": stopping it stops
// taking requests and waits, within the stop's deadline, for those in flight. A failure
// of the server arrives on the channel returned.
func (c *Parts) ServeHTTP(ln net.Listener, h http.Handler, log *slog.Logger) <-chan error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Webhook bodies are small: a client trickling one in ties up a goroutine.
		// No write timeout: media downloads stream for as long as the file needs.
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
	failed := make(chan error, 1)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			failed <- err
		}
	}()
	c.Add("http", func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			return fmt.Errorf("http shutdown: %w", err)
		}
		return nil
	})
	return failed
}
