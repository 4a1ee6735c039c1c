package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// How long the delivery queues' entries have waited, read cheaply: a stream entry's
// id is the time Redis added it (milliseconds of the server's clock), and a sent entry
// is deleted (doneScript), so the first entry of each shard's stream is the oldest one
// still waiting there, in flight or not. One round trip reads Redis's clock and the
// first entry of every shard, nothing else.

// OldestAge is how long the oldest entry of the lane's queue for ch has waited, by
// Redis's clock; 0 when the queue is empty.
func (q *Delivery) OldestAge(ctx context.Context, ch bot.Channel) (time.Duration, error) {
	pipe := q.s.c.Pipeline()
	now := pipe.Time(ctx)
	firsts := make([]*redis.XMessageSliceCmd, Shards)
	for sh := range Shards {
		firsts[sh] = pipe.XRangeN(ctx, q.stream(sh, ch), "-", "+", 1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("oldest %s entry of %s: %w", q.lane, ch, err)
	}
	var oldest time.Duration
	for _, c := range firsts {
		for _, m := range c.Val() {
			if at, ok := entryTime(m.ID); ok {
				oldest = max(oldest, now.Val().Sub(at))
			}
		}
	}
	return oldest, nil
}

// entryTime is when a stream entry was added, from its id ("<ms>-<seq>").
func entryTime(id string) (time.Time, bool) {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(n), true
}

// OldestReply is how long the oldest reply has waited on the channels some process
// sends (a sender beat in <p>:members:out:<channel> lately), and on which: what the
// readiness probe bounds. A channel no process sends on is left out, as the terminal's
// news that waits for its citizen to come back.
func (s *Store) OldestReply(ctx context.Context) (time.Duration, bot.Channel, error) {
	q := s.Delivery()
	chans := bot.AudienceChannels()
	pipe := s.c.Pipeline()
	live := make([]*redis.IntCmd, len(chans))
	for i, ch := range chans {
		live[i] = pipe.Exists(ctx, q.membersKey(ch))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, "", fmt.Errorf("live senders: %w", err)
	}
	var oldest time.Duration
	var on bot.Channel
	for i, ch := range chans {
		if live[i].Val() == 0 {
			continue
		}
		age, err := q.OldestAge(ctx, ch)
		if err != nil {
			return 0, "", err
		}
		if age > oldest {
			oldest, on = age, ch
		}
	}
	return oldest, on, nil
}
