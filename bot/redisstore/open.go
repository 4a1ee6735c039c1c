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
)

// Conn is the Redis the gateway keeps its state in, and the embedded server behind it
// when no URL is given.
type Conn struct {
	Client   redis.UniversalClient
	embedded *miniredis.Miniredis
}

// Open connects to the Redis at rawURL (see ParseURL), or starts an embedded in-process
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
	newClient, err := ParseURL(rawURL)
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

// CheckURL reports what is wrong with a Redis URL ParseURL cannot read. Its error never
// quotes the URL, which may carry a password: url.Parse and go-redis quote the whole
// URL, and CheckURL puts "<REDIS_URL>" in its place.
func CheckURL(raw string) error {
	_, err := ParseURL(raw)
	if err == nil {
		return nil
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return errors.New(strings.ReplaceAll(err.Error(), raw, "<REDIS_URL>"))
}

// ParseURL reads a Redis URL and returns how to build its client. It understands:
//
//	redis://[user:pass@]host:port[/db][?options]   one server (rediss:// for TLS, unix:///path.sock)
//	redis://h1:6379,h2:6379[?options]              a cluster: several hosts …
//	redis://h1:6379?addr=h2:6379&addr=h3:6379      … or go-redis's addr= form
//	redis+cluster://h1:6379                        a cluster given by one seed node
//	redis+sentinel://[user:pass@]s1:26379,s2:26379/<master>[/db][?sentinel_password=…]
//
// The go-redis parsers keep every URL option (timeouts, pool sizes, TLS); the client
// is then the concrete type they configure, which is a redis.UniversalClient.
func ParseURL(raw string) (func() redis.UniversalClient, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New("want a URL such as redis://127.0.0.1:6379/0")
	}
	base, mode, _ := strings.Cut(scheme, "+")
	if base != "redis" && base != "rediss" && base != "unix" {
		return nil, fmt.Errorf("scheme %q: want redis, rediss, unix, redis+cluster or redis+sentinel", scheme)
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hostlist := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hostlist = authority[:i+1], authority[i+1:]
	}
	hosts := strings.Split(hostlist, ",")
	first := base + "://" + userinfo + hosts[0]

	switch mode {
	case "sentinel":
		return parseSentinel(base, userinfo, hosts, tail)
	case "cluster":
	case "":
		if base == "unix" || (len(hosts) == 1 && !strings.Contains(tail, "addr=")) {
			o, err := redis.ParseURL(raw)
			if err != nil {
				return nil, err
			}
			return func() redis.UniversalClient { return redis.NewClient(o) }, nil
		}
	default:
		return nil, fmt.Errorf("scheme %q: want redis+cluster or redis+sentinel", scheme)
	}
	u, err := url.Parse(first + tail)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	u.RawQuery = q.Encode()
	o, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return nil, err
	}
	return func() redis.UniversalClient { return redis.NewClusterClient(o) }, nil
}

// parseSentinel reads redis+sentinel://[user:pass@]s1,s2/<master>[/db][?options]: the
// credentials and options are the master's, sentinel_username and sentinel_password
// the sentinels'.
func parseSentinel(base, userinfo string, hosts []string, tail string) (func() redis.UniversalClient, error) {
	path, query, _ := strings.Cut(tail, "?")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if parts[0] == "" || len(parts) > 2 {
		return nil, errors.New("sentinel: want redis+sentinel://host:26379,host:26379/<master>[/db]")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("sentinel: %w", err)
	}
	sentinelUser, sentinelPass := q.Get("sentinel_username"), q.Get("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	db := "/0"
	if len(parts) == 2 {
		db = "/" + parts[1]
	}
	// The master's settings are parsed as one server's URL, then pointed at the sentinels.
	o, err := redis.ParseURL(base + "://" + userinfo + hosts[0] + db + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sentinel: %w", err)
	}
	fo := &redis.FailoverOptions{
		MasterName:       parts[0],
		SentinelAddrs:    hosts,
		SentinelUsername: sentinelUser,
		SentinelPassword: sentinelPass,
		Username:         o.Username,
		Password:         o.Password,
		DB:               o.DB,
		Protocol:         o.Protocol,
		ClientName:       o.ClientName,
		TLSConfig:        o.TLSConfig,
		MaxRetries:       o.MaxRetries,
		DialTimeout:      o.DialTimeout,
		ReadTimeout:      o.ReadTimeout,
		WriteTimeout:     o.WriteTimeout,
		PoolSize:         o.PoolSize,
		MinIdleConns:     o.MinIdleConns,
		MaxIdleConns:     o.MaxIdleConns,
		PoolTimeout:      o.PoolTimeout,
		ConnMaxIdleTime:  o.ConnMaxIdleTime,
		ConnMaxLifetime:  o.ConnMaxLifetime,
	}
	return func() redis.UniversalClient { return redis.NewFailoverClient(fo) }, nil
}
