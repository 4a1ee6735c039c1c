package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Holidays keeps the admins' edits of the working-day calendar in one hash,
// <p>:holidays (field: date "2026-02-17", value: "off <name>", "work <name>" or
// "normal"), laid by the console over the holidays file. The store keeps the text as
// given; the console (workday.ParseEdit) reads and checks it. They are a few dozen
// days at most, read whole.
type Holidays struct {
	c   redis.UniversalClient
	key string
}

// Holidays returns the store's calendar edits.
func (s *Store) Holidays() *Holidays {
	return &Holidays{c: s.c, key: s.prefix + ":holidays"}
}

// List returns every edit, by date.
func (h *Holidays) List(ctx context.Context) (map[string]string, error) {
	all, err := h.c.HGetAll(ctx, h.key).Result()
	if err != nil {
		return nil, fmt.Errorf("holidays list: %w", err)
	}
	return all, nil
}

// Put sets the edit of date, replacing the one it had.
func (h *Holidays) Put(ctx context.Context, date, value string) error {
	if err := h.c.HSet(ctx, h.key, date, value).Err(); err != nil {
		return fmt.Errorf("holidays put %s: %w", date, err)
	}
	return nil
}

// Delete removes the edit of date (the holidays file decides that day again); it
// reports whether there was one.
func (h *Holidays) Delete(ctx context.Context, date string) (bool, error) {
	n, err := h.c.HDel(ctx, h.key, date).Result()
	if err != nil {
		return false, fmt.Errorf("holidays delete %s: %w", date, err)
	}
	return n == 1, nil
}
