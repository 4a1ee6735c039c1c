// Package redistest gives tests a real Redis server and a key prefix of their own.
//
// Tests run against a real server, never an in-process imitation, so that Lua scripts,
// streams and TTLs behave as in production. REDIS_URL names the server; without it the
// local default (redis://127.0.0.1:6379) is used when it answers. `make test` starts a
// server when none is running.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot/redisstore/redisurl"
)

// defaultURL is the server tried when REDIS_URL is empty.
const defaultURL = "redis://127.0.0.1:6379"

// Client returns a client for the test's Redis server and closes it when the test ends.
// REDIS_URL may name a single server or a cluster, in any form REDIS_URL takes in
// production (redisurl.Parse): scripts/with-cluster.sh gives redis://h1,h2,h3.
func Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	explicit := url != ""
	if !explicit {
		url = defaultURL
	}
	c, err := open(url)
	if err != nil {
		t.Fatalf("redistest: REDIS_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		if explicit {
			t.Fatalf("redistest: Redis at REDIS_URL does not answer: %v", err)
		}
		t.Fatal("no Redis server: set REDIS_URL or run make test")
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// open builds the client of url as the gateway does (redisurl.Parse): one server, or a
// cluster when it lists several hosts, addr= parameters or redis+cluster://.
func open(url string) (redis.UniversalClient, error) {
	newClient, err := redisurl.Parse(url)
	if err != nil {
		return nil, err
	}
	return newClient(), nil
}

// Prefix returns a key prefix unique to this test ("skt:<random>") and deletes every key
// under it when the test ends, so tests share one server without seeing each other.
func Prefix(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("redistest: random prefix: %v", err)
	}
	p := "skt:" + hex.EncodeToString(b[:])
	c := Client(t)
	// Registered after Client's own cleanup, so it runs first (cleanups are LIFO).
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := Delete(ctx, c, p); err != nil {
			t.Errorf("redistest: delete keys under %s: %v", p, err)
		}
	})
	return p
}

// Keys returns every key matching pattern (a SCAN pattern), read on every master of a
// cluster: a cluster client sends SCAN and KEYS to one node only, which holds a third
// of the keys of a three-master cluster.
func Keys(ctx context.Context, c redis.UniversalClient, pattern string) ([]string, error) {
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, n redis.UniversalClient) error {
		it := n.Scan(ctx, 0, pattern, 500).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			return scan(ctx, n)
		})
	} else {
		err = scan(ctx, c)
	}
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	return keys, nil
}

// Delete unlinks every key that starts with prefix, on every master of a cluster.
func Delete(ctx context.Context, c redis.UniversalClient, prefix string) error {
	keys, err := Keys(ctx, c, prefix+"*")
	if err != nil {
		return err
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := unlink(ctx, c, keys[:n]); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// unlink removes keys one by one: on a cluster, keys of one batch may live in different
// slots, and a multi-key UNLINK across slots is refused.
func unlink(ctx context.Context, c redis.UniversalClient, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	pipe := c.Pipeline()
	for _, k := range keys {
		pipe.Unlink(ctx, k)
	}
	_, err := pipe.Exec(ctx)
	return err
}
