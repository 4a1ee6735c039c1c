package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot/redisstore/redisurl"
)

// Conn is the Redis the gateway keeps its state in, and the embedded server behind it
// when no URL is given.
type Conn struct {
	Client   redis.UniversalClient
	embedded *miniredis.Miniredis
}

// Open connects to the Redis at rawURL (see redisurl.Parse), or starts an embedded in-process
// Redis when it is empty. It does not wait for the server: a ping tells whether it
// answers. Errors name REDIS_URL, the variable the URL comes from.
func Open(rawURL string, log *slog.Logger) (*Conn, error) {
	if rawURL == "" {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
		log.Warn("REDIS_URL is empty: using an embedded in-process Redis; nothing is kept when the process stops",
			"component", "redis", "addr", m.Addr())
		return &Conn{
			Client:   redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{m.Addr()}}),
			embedded: m,
		}, nil
	}
	newClient, err := redisurl.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return &Conn{Client: newClient()}, nil
}

// Embedded reports whether the server is the in-process one, which forgets everything
// when the process stops.
func (r *Conn) Embedded() bool { return r.embedded != nil }

// ContinueReferences starts the reference counters after the highest references
// already given, by series ("SK-2026" → 12): an embedded Redis forgets its counters
// between runs, and a reference must never be given twice.
func (s *Store) ContinueReferences(ctx context.Context, last map[string]int64) error {
	for series, n := range last {
		prefix, y, ok := strings.Cut(series, "-")
		year, err := strconv.Atoi(y)
		if !ok || err != nil {
			continue
		}
		if err := s.SeedReference(ctx, prefix, year, n); err != nil {
			return fmt.Errorf("embedded redis: %w", err)
		}
	}
	return nil
}

// RouteClientLogs sends go-redis's own log lines (a failed dial, in its own format) to
// log as warnings, like every other line. It is a package-wide setting of go-redis:
// call it once, from main.
func RouteClientLogs(log *slog.Logger) { redis.SetLogger(clientLog{log}) }

type clientLog struct{ log *slog.Logger }

func (l clientLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...))
}

// Close closes the client, then the embedded server.
func (r *Conn) Close() error {
	err := r.Client.Close()
	if r.embedded != nil {
		r.embedded.Close()
	}
	return err
}

// CheckURL reports what is wrong with a Redis URL redisurl.Parse cannot read. Its error never
// quotes the URL, which may carry a password: url.Parse and go-redis quote the whole
// URL, and CheckURL puts "<REDIS_URL>" in its place.
func CheckURL(raw string) error {
	_, err := redisurl.Parse(raw)
	if err == nil {
		return nil
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return errors.New(strings.ReplaceAll(err.Error(), raw, "<REDIS_URL>"))
}
