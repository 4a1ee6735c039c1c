package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// Lanes of a queue as QueueStats names them: a channel's replies (OutboundStream) and
// bulk messages (BulkStream), and the outbox of submissions to the intake.
const (
	LaneReplies = "replies"
	LaneBulk    = "bulk"
	LaneOutbox  = "outbox"
)

// QueueStat is what waits in one lane of one channel (none for the outbox): how many
// entries, and how long the oldest has waited.
type QueueStat struct {
	Channel bot.Channel
	Lane    string
	Depth   int64
	// Oldest is the age of the oldest entry, in the server's clock; 0 when empty.
	Oldest time.Duration
}

// QueueStats reads, in one pipeline, each channel's reply and bulk lanes and the
// outbox: every shard's length and first entry (a stream id is its entry's time), and
// the server's clock. It is cheap enough for every scrape of the metrics: four
// commands per shard and channel, two per shard for the outbox, one round trip (one
// per node of a cluster).
func (s *Store) QueueStats(ctx context.Context, channels []bot.Channel) ([]QueueStat, error) {
	type lane struct {
		stat  QueueStat
		lens  []*redis.IntCmd
		first []*redis.XMessageSliceCmd
	}
	var lanes []*lane
	pipe := s.c.Pipeline()
	now := pipe.Time(ctx)
	add := func(ch bot.Channel, name string, stream func(int) string) {
		l := &lane{stat: QueueStat{Channel: ch, Lane: name}}
		for sh := range Shards {
			l.lens = append(l.lens, pipe.XLen(ctx, stream(sh)))
			l.first = append(l.first, pipe.XRangeN(ctx, stream(sh), "-", "+", 1))
		}
		lanes = append(lanes, l)
	}
	for _, ch := range channels {
		add(ch, LaneReplies, func(sh int) string { return s.OutboundStream(sh, ch) })
		add(ch, LaneBulk, func(sh int) string { return s.BulkStream(sh, ch) })
	}
	add("", LaneOutbox, s.outboxStream)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: queue stats: %w", err)
	}
	server, err := now.Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: queue stats: %w", err)
	}
	out := make([]QueueStat, 0, len(lanes))
	for _, l := range lanes {
		var oldest time.Time
		for sh := range Shards {
			l.stat.Depth += l.lens[sh].Val()
			for _, m := range l.first[sh].Val() {
				if at, ok := streamIDTime(m.ID); ok && (oldest.IsZero() || at.Before(oldest)) {
					oldest = at
				}
			}
		}
		if !oldest.IsZero() && server.After(oldest) {
			l.stat.Oldest = server.Sub(oldest)
		}
		out = append(out, l.stat)
	}
	return out, nil
}

// streamIDTime is the time in a stream entry's id ("<ms>-<seq>").
func streamIDTime(id string) (time.Time, bool) {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(n), true
}
