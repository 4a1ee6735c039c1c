package redisstore

import (
	"context"
	"net"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// RoundTrips is a redis.Hook that counts round trips to Redis: each command sent alone
// counts one, each pipeline or transaction counts one (a cluster client may split a
// pipeline by node; it still counts one). A script's first run on a server costs two
// (EVALSHA answered NOSCRIPT, then EVAL). The commands a new connection sends to set
// itself up (HELLO, AUTH, SELECT, CLIENT …, READONLY) are not counted: they belong to
// the pool, not to the work measured.
//
//	rt := &redisstore.RoundTrips{}
//	client.AddHook(rt)
type RoundTrips struct {
	n atomic.Int64
}

var _ redis.Hook = (*RoundTrips)(nil)

// Count returns the round trips counted since the last Reset.
func (r *RoundTrips) Count() int64 { return r.n.Load() }

// Reset sets the count to zero.
func (r *RoundTrips) Reset() { r.n.Store(0) }

// DialHook passes dials through uncounted.
func (r *RoundTrips) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

// ProcessHook counts a single command.
func (r *RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !setup[cmd.Name()] {
			r.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook counts a pipeline or transaction as one.
func (r *RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if !setup[c.Name()] {
				r.n.Add(1)
				break
			}
		}
		return next(ctx, cmds)
	}
}

// setup names the commands go-redis sends when it opens a connection.
var setup = map[string]bool{"hello": true, "auth": true, "select": true, "client": true, "readonly": true}
