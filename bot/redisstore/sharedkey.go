package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// SharedKey returns the secret key named name, made of n random bytes the first time it
// is asked for: every gateway process sharing the Redis signs with the same key, and
// the key lasts as long as Redis keeps its data. It lives in <p>:key:<name>, no TTL.
func (s *Store) SharedKey(ctx context.Context, name string, n int) ([]byte, error) {
	fresh := make([]byte, n)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("shared key %s: %w", name, err)
	}
	key := s.prefix + ":key:" + name
	// SET NX GET: stores ours when there is none, else answers the one already there.
	old, err := s.c.SetArgs(ctx, key, hex.EncodeToString(fresh), redis.SetArgs{Mode: "NX", Get: true}).Result()
	if errors.Is(err, redis.Nil) {
		return fresh, nil
	}
	if err != nil {
		return nil, fmt.Errorf("shared key %s: %w", name, err)
	}
	b, err := hex.DecodeString(old)
	if err != nil || len(b) < n {
		return nil, fmt.Errorf("shared key %s: %s holds no key of %d bytes", name, key, n)
	}
	return b, nil
}
