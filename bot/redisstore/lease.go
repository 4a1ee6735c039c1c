package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxLeasePeriod bounds every lease this package hands out. A holder killed with
// kill -9 releases nothing: its work waits for the lease to run out, so this is the
// longest a fleet goes without someone doing a piece of work after a crash.
const MaxLeasePeriod = 15 * time.Second

// ErrLeaseLost is returned by an acknowledgement made under a lease its holder no
// longer has (it ran out, or another holder took the work over): the work is someone
// else's now, and what this holder did with it must not count.
var ErrLeaseLost = errors.New("redisstore: lease lost")

// Lease is one claim on a named piece of work: who in the fleet does it, until the
// lease runs out or is released. It is the only ownership mechanism of the store:
// delivery shards, outbox entries, albums and the Zalo token refresh all use it.
//
// A lease is a string key holding the claim's token, with the lease period as its
// TTL. The token is the holder's name and a random part, new for every claim, so it
// is also the fencing token: every script that acknowledges work done under a lease
// checks, in the same step, that the key still holds the token (see leaseHeld), and a
// holder whose lease ran out, even one that claimed the same work again since, cannot
// acknowledge what it read under the old claim.
type Lease struct {
	// Key is the lease's Redis key. It carries the hash tag of the work it guards, so
	// that an acknowledgement and the fencing check are one script on a cluster too.
	Key string
	// Token is this claim's fencing token.
	Token string
}

// The lease script family. leaseHeld is a Lua condition for the scripts that
// acknowledge work: KEYS[1] is the lease key, ARGV[1] the token.
const leaseHeld = `redis.call('GET', KEYS[1]) == ARGV[1]`

// claimLeaseScript takes a free lease. KEYS: lease. ARGV: token, ttl (ms).
var claimLeaseScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
`)

// renewLeaseScript extends a lease its holder still has. A lease that ran out is not
// taken again by a renewal, even when nobody took it since: the holder may have lost
// its work meanwhile, and must claim it afresh. KEYS: lease. ARGV: token, ttl (ms).
var renewLeaseScript = redis.NewScript(`
if ` + leaseHeld + ` then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// releaseLeaseScript gives a lease back at once, if its holder still has it.
// KEYS: lease. ARGV: token.
var releaseLeaseScript = redis.NewScript(`
if ` + leaseHeld + ` then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// claimLease claims the work behind key for holder for ttl (at most MaxLeasePeriod).
// It reports false when someone else holds it.
func claimLease(ctx context.Context, c redis.UniversalClient, key, holder string, ttl time.Duration) (Lease, bool, error) {
	l := Lease{Key: key, Token: holder + "/" + newToken()}
	ok, err := claimLeaseScript.Run(ctx, c, []string{key}, l.Token, leaseMillis(ttl)).Int()
	if err != nil {
		return Lease{}, false, fmt.Errorf("claim lease: %w", err)
	}
	if ok == 0 {
		return Lease{}, false, nil
	}
	return l, true, nil
}

// takeLeases claims work that a schedule in the store has just handed to holder alone
// (the due albums a script moved past their lease end): whatever claim is there was
// given up by that schedule, so it is taken over whether or not it ran out. One
// pipeline for all the keys.
func takeLeases(ctx context.Context, c redis.UniversalClient, keys []string, holder string, ttl time.Duration) ([]Lease, error) {
	out := make([]Lease, len(keys))
	pipe := c.Pipeline()
	for i, k := range keys {
		out[i] = Lease{Key: k, Token: holder + "/" + newToken()}
		pipe.Set(ctx, k, out[i].Token, time.Duration(leaseMillis(ttl))*time.Millisecond)
	}
	if len(keys) == 0 {
		return out, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("take leases: %w", err)
	}
	return out, nil
}

// renewLease extends l for ttl. It reports false when l is lost.
func renewLease(ctx context.Context, c redis.UniversalClient, l Lease, ttl time.Duration) (bool, error) {
	ok, err := renewLeaseScript.Run(ctx, c, []string{l.Key}, l.Token, leaseMillis(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("renew lease: %w", err)
	}
	return ok == 1, nil
}

// releaseLease gives l back. Releasing a lease that is lost already is not an error.
func releaseLease(ctx context.Context, c redis.UniversalClient, l Lease) error {
	if err := releaseLeaseScript.Run(ctx, c, []string{l.Key}, l.Token).Err(); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}

// leaseMillis is a lease period in whole milliseconds, at least 1, at most
// MaxLeasePeriod.
func leaseMillis(ttl time.Duration) int64 {
	return millis(min(ttl, MaxLeasePeriod))
}
