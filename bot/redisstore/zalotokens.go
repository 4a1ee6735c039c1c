package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
// lapses by itself after its TTL, so a process that dies while refreshing blocks the
// others for that long at most.
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

// Lock takes the refresh lock for ttl. It returns a random owner value to give to
// Unlock, or "" when another process holds the lock.
func (z *ZaloTokens) Lock(ctx context.Context, appID string, ttl time.Duration) (string, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	owner := hex.EncodeToString(b[:])
	ok, err := z.c.SetNX(ctx, z.lockKey(appID), owner, ttl).Result()
	if err != nil {
		return "", fmt.Errorf("zalo token lock: %w", err)
	}
	if !ok {
		return "", nil
	}
	return owner, nil
}

// zaloUnlockScript deletes the lock only if it still holds the owner's value: a process
// whose lock lapsed must not release the lock another process took since.
var zaloUnlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// Unlock releases the lock if owner still holds it.
func (z *ZaloTokens) Unlock(ctx context.Context, appID, owner string) error {
	if err := zaloUnlockScript.Run(ctx, z.c, []string{z.lockKey(appID)}, owner).Err(); err != nil {
		return fmt.Errorf("zalo token unlock: %w", err)
	}
	return nil
}
