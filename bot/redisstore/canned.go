package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/sangkien/sangkien/bot"
)

// Canned keeps the console's canned answers in one hash, <p>:canned (field: id,
// value: JSON bot.CannedAnswer): they are a few dozen, read whole for the console's
// picker.
type Canned struct {
	c   redis.UniversalClient
	key string
}

// Canned returns the store's canned answers.
func (s *Store) Canned() *Canned {
	return &Canned{c: s.c, key: s.prefix + ":canned"}
}

// Put validates a and creates or replaces the answer of its id. A zero UpdatedAt is
// set to now.
func (cn *Canned) Put(ctx context.Context, a bot.CannedAnswer) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("canned put: %w", err)
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = time.Now().UTC()
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("canned put: %w", err)
	}
	if err := cn.c.HSet(ctx, cn.key, a.ID, raw).Err(); err != nil {
		return fmt.Errorf("canned put: %w", err)
	}
	return nil
}

// Get returns the answer of id; bot.ErrUnknownCanned when there is none.
func (cn *Canned) Get(ctx context.Context, id string) (bot.CannedAnswer, error) {
	raw, err := cn.c.HGet(ctx, cn.key, id).Result()
	if errors.Is(err, redis.Nil) {
		return bot.CannedAnswer{}, bot.ErrUnknownCanned
	}
	if err != nil {
		return bot.CannedAnswer{}, fmt.Errorf("canned get: %w", err)
	}
	var a bot.CannedAnswer
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return bot.CannedAnswer{}, fmt.Errorf("canned get %s: %w", id, err)
	}
	return a, nil
}

// List returns every answer, by title in Vietnamese alphabetical order (Đ after D,
// not after Z), then by id.
func (cn *Canned) List(ctx context.Context) ([]bot.CannedAnswer, error) {
	all, err := cn.c.HGetAll(ctx, cn.key).Result()
	if err != nil {
		return nil, fmt.Errorf("canned list: %w", err)
	}
	out := make([]bot.CannedAnswer, 0, len(all))
	for id, raw := range all {
		var a bot.CannedAnswer
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			return nil, fmt.Errorf("canned list %s: %w", id, err)
		}
		out = append(out, a)
	}
	// A Collator is not safe for concurrent use: one per call.
	col := collate.New(language.Vietnamese, collate.IgnoreCase)
	slices.SortFunc(out, func(a, b bot.CannedAnswer) int {
		return cmp.Or(col.CompareString(a.Title, b.Title), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Delete removes the answer of id; bot.ErrUnknownCanned when there is none.
func (cn *Canned) Delete(ctx context.Context, id string) error {
	n, err := cn.c.HDel(ctx, cn.key, id).Result()
	if err != nil {
		return fmt.Errorf("canned delete: %w", err)
	}
	if n == 0 {
		return bot.ErrUnknownCanned
	}
	return nil
}
