package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ZaloTokens keeps the Zalo app's token pair and its refresh lock, shared by every
// gateway process on the Redis (integrations/zalo.TokenStore). The pair is opaque here:
// integrations/zalo writes it as JSON.
//
// The pair key has no TTL: it holds the only valid refresh token (each refresh voids
// the previous one), and losing it means authorizing the OA again by hand. The lock
// is a Lease: it lapses by itself, so a process that dies while refreshing blocks the
// others for one lease period at most.
type ZaloTokens struct {
	c      redis.UniversalClient
	prefix string
}

// ZaloTokens returns the store's Zalo token keeper.
func (s *Store) ZaloTokens() *ZaloTokens { return &ZaloTokens{c: s.c, prefix: s.prefix} }

func (z *ZaloTokens) pairKey(appID string) string { return z.prefix + ":zalo:token:" + appID }
func (z *ZaloTokens) lockKey(appID string) string { return z.prefix + ":zalo:lock:" + appID }

// Get returns the stored pair, or nil when there is none.
func (z *ZaloTokens) Get(ctx context.Context, appID string) ([]byte, error) {
	b, err := z.c.Get(ctx, z.pairKey(appID)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("zalo token: %w", err)
	}
	return b, nil
}

// Set stores the pair, replacing any other.
func (z *ZaloTokens) Set(ctx context.Context, appID string, pair []byte) error {
	if err := z.c.Set(ctx, z.pairKey(appID), pair, 0).Err(); err != nil {
		return fmt.Errorf("zalo token: %w", err)
	}
	return nil
}

// Seed stores the pair only when none is stored, and reports whether it did.
func (z *ZaloTokens) Seed(ctx context.Context, appID string, pair []byte) (bool, error) {
	ok, err := z.c.SetNX(ctx, z.pairKey(appID), pair, 0).Result()
	if err != nil {
		return false, fmt.Errorf("zalo token seed: %w", err)
	}
	return ok, nil
}

// Lock claims the refresh lease (<p>:zalo:lock:<app id>, a Lease) for ttl, at most
// MaxLeasePeriod: a process killed while refreshing holds up the others that long at
// most. It returns the lease's token to give to Unlock, or "" when another process
// holds it.
func (z *ZaloTokens) Lock(ctx context.Context, appID string, ttl time.Duration) (string, error) {
	l, ok, err := claimLease(ctx, z.c, z.lockKey(appID), "zalo-refresh", ttl)
	if err != nil {
		return "", fmt.Errorf("zalo token lock: %w", err)
	}
	if !ok {
		return "", nil
	}
	return l.Token, nil
}

// Unlock gives the refresh lease back if owner still holds it: a process whose lease
// lapsed must not release the lease another process took since.
func (z *ZaloTokens) Unlock(ctx context.Context, appID, owner string) error {
	if err := releaseLease(ctx, z.c, Lease{Key: z.lockKey(appID), Token: owner}); err != nil {
		return fmt.Errorf("zalo token unlock: %w", err)
	}
	return nil
}
