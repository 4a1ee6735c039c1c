package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Inbox keeps webhook bodies a channel has verified but not yet run, so that an event
// a provider delivered once is not lost when running it fails (integrations/zalo: Zalo
// may never deliver again an event it was answered 500 for).
//
// The webhook puts a body and holds it under a Lease while it runs it at once, in the
// same request; when the run is done it removes the body, fenced by the lease. A body
// whose run failed, or whose process died, stays: once its lease has run out (one lease
// period), Takeover, which every process calls now and then, claims it with the same
// Lease and runs it again. Running twice is harmless: the engine drops an event id it
// committed before.
//
// Keys (one hash tag per inbox, so that a body and its lease are one script on a
// cluster; an inbox holds only bodies in flight, so the slot stays small):
//
//	<p>:{inbox:<name>}:bodies         hash: body id -> raw body
//	<p>:{inbox:<name>}:lease:<id>     string: the Lease of whoever runs the body
type Inbox struct {
	c      redis.UniversalClient
	prefix string
	holder string
	period time.Duration
}

// DefaultInboxPeriod is how long a process holds a body it runs: far longer than one
// run (a webhook answers within two seconds), and the time before another process
// takes over a body whose process died.
const DefaultInboxPeriod = MaxLeasePeriod

// Inbox returns the inbox called name ("zalo"). period is the lease period (at most
// MaxLeasePeriod; DefaultInboxPeriod when zero or less).
func (s *Store) Inbox(name string, period time.Duration) *Inbox {
	if period <= 0 {
		period = DefaultInboxPeriod
	}
	return &Inbox{
		c: s.c, prefix: s.prefix + ":{inbox:" + name + "}:",
		holder: "inbox-" + newToken()[:8], period: min(period, MaxLeasePeriod),
	}
}

func (in *Inbox) bodiesKey() string         { return in.prefix + "bodies" }
func (in *Inbox) leaseKey(id string) string { return in.prefix + "lease:" + id }

// inboxPutScript stores a body and claims it, unless someone holds it already (a provider's
// redelivery of a body another process is running). KEYS: lease, bodies. ARGV: token,
// ttl (ms), id, body.
var inboxPutScript = redis.NewScript(`
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
`)

// inboxDoneScript removes a body while its lease is held. KEYS: lease, bodies. ARGV: token, id.
var inboxDoneScript = redis.NewScript(`
if ` + leaseHeld + ` then
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// Put stores body under id and claims it for this process. done removes it; it is nil
// when another process holds the body already (it runs it). Only once Put returned
// without error is the body safe.
func (in *Inbox) Put(ctx context.Context, id string, body []byte) (done func(context.Context) error, err error) {
	l := Lease{Key: in.leaseKey(id), Token: in.holder + "/" + newToken()}
	ok, err := inboxPutScript.Run(ctx, in.c, []string{l.Key, in.bodiesKey()}, l.Token, leaseMillis(in.period), id, body).Int()
	if err != nil {
		return nil, fmt.Errorf("inbox put: %w", err)
	}
	if ok == 0 {
		return nil, nil
	}
	return func(ctx context.Context) error { return in.done(ctx, l, id) }, nil
}

// done removes the body id held under l; ErrLeaseLost when l ran out (the body stays,
// for whoever takes it over).
func (in *Inbox) done(ctx context.Context, l Lease, id string) error {
	ok, err := inboxDoneScript.Run(ctx, in.c, []string{l.Key, in.bodiesKey()}, l.Token, id).Int()
	if err != nil {
		return fmt.Errorf("inbox done: %w", err)
	}
	if ok == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Takeover claims up to max bodies nobody holds (their run failed, or their process
// died, at least one lease period ago) and calls run for each. A body run handles
// without error is removed; one it fails stays for a later Takeover. It returns how
// many bodies it ran.
func (in *Inbox) Takeover(ctx context.Context, max int, run func(ctx context.Context, id string, body []byte) error) (int, error) {
	ids, err := in.c.HKeys(ctx, in.bodiesKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("inbox scan: %w", err)
	}
	n := 0
	for _, id := range ids {
		if n >= max {
			break
		}
		l, ok, err := claimLease(ctx, in.c, in.leaseKey(id), in.holder, in.period)
		if err != nil {
			return n, err
		}
		if !ok {
			continue // being run right now
		}
		body, err := in.c.HGet(ctx, in.bodiesKey(), id).Bytes()
		if errors.Is(err, redis.Nil) {
			// Its runner removed it between the scan and the claim.
			_ = releaseLease(ctx, in.c, l)
			continue
		}
		if err != nil {
			return n, fmt.Errorf("inbox get: %w", err)
		}
		n++
		if err := run(ctx, id, body); err != nil {
			continue // the lease runs out; a later Takeover tries again
		}
		if err := in.done(ctx, l, id); err != nil && !errors.Is(err, ErrLeaseLost) {
			return n, err
		}
	}
	return n, nil
}

// Len is the number of bodies in the inbox (run or waiting), for metrics and tests.
func (in *Inbox) Len(ctx context.Context) (int64, error) {
	n, err := in.c.HLen(ctx, in.bodiesKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("inbox len: %w", err)
	}
	return n, nil
}
