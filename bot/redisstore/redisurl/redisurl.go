// Package redisurl reads the Redis URLs the gateway and its tests accept: one server,
// a cluster (several hosts, addr= or redis+cluster://) or Sentinel. It is its own
// package so that bot/redisstore and its test helper (redistest, which the store's own
// tests import) read REDIS_URL the same way.
package redisurl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Parse reads a Redis URL and returns how to build its client. It understands:
//
//	redis://[user:pass@]host:port[/db][?options]   one server (rediss:// for TLS, unix:///path.sock)
//	redis://h1:6379,h2:6379[?options]              a cluster: several hosts …
//	redis://h1:6379?addr=h2:6379&addr=h3:6379      … or go-redis's addr= form
//	redis+cluster://h1:6379                        a cluster given by one seed node
//	redis+sentinel://[user:pass@]s1:26379,s2:26379/<master>[/db][?sentinel_password=…]
//
// The go-redis parsers keep every URL option (timeouts, pool sizes, TLS); the client
// is then the concrete type they configure, which is a redis.UniversalClient.
func Parse(raw string) (func() redis.UniversalClient, error) {
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
