package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/lifecycle"
)

// Serve mounts GET /metrics on mux, or, when s.Addr is set, on a listener of its own
// there (its address logged as "metrics server listening"), stopped with parts.
func (m *Metrics) Serve(s Settings, mux *http.ServeMux, parts *lifecycle.Parts) error {
	if s.Addr == "" {
		mux.Handle("GET "+Path, m.Handler())
		return nil
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR: %w", err)
	}
	own := http.NewServeMux()
	own.Handle("GET "+Path, m.Handler())
	srv := &http.Server{
		Handler:           own,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.log.With("component", "metrics").Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("metrics server", "component", "metrics", "err", err)
		}
	}()
	parts.Add("metrics", func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			return fmt.Errorf("metrics shutdown: %w", err)
		}
		return nil
	})
	m.log.Info("metrics server listening", "component", "metrics", "addr", ln.Addr().String())
	return nil
}

// Setup makes serve's metrics: the registry, the delivery queues of the channels that
// send (Telegram, Zalo), the outbox and the broadcasts read from st on each scrape, the
// round trips of rc counted, served as s says. The channels wrap their parts with its
// Sender, Webhook and Events, the outbox worker its intake with Intake.
func Setup(s Settings, st QueueStore, rc redis.UniversalClient, mux *http.ServeMux, parts *lifecycle.Parts, log *slog.Logger) (*Metrics, error) {
	m := New(log)
	m.WatchQueues(st, []bot.Channel{bot.Telegram, bot.Zalo})
	m.CountRedis(rc)
	if err := m.Serve(s, mux, parts); err != nil {
		return nil, err
	}
	return m, nil
}
