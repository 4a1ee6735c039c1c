package redisstore

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// TestOldestReply: the age of the oldest waiting reply comes from the stream ids, by
// Redis's clock, over every shard of the channels some process sends on; a sent
// (deleted) entry no longer counts, and neither do the bulk lane nor a channel without
// a sender.
func TestOldestReply(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	age := func() (time.Duration, bot.Channel) {
		t.Helper()
		d, ch, err := s.OldestReply(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d, ch
	}
	if d, _ := age(); d != 0 {
		t.Fatalf("no queue: oldest %v, want 0", d)
	}

	now, err := c.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	// added writes an entry as Commit would have, ago before Redis's now.
	added := func(stream string, ago time.Duration) string {
		t.Helper()
		id := strconv.FormatInt(now.Add(-ago).UnixMilli(), 10) + "-0"
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, ID: id, Values: []any{"m", "{}"}}).Err(); err != nil {
			t.Fatal(err)
		}
		return id
	}
	added(s.OutboundStream(3, bot.Zalo), 30*time.Second)
	old := added(s.OutboundStream(17, bot.Zalo), 90*time.Second)
	added(s.OutboundStream(17, bot.Zalo), 10*time.Second)
	added(s.BulkStream(5, bot.Zalo), time.Hour)            // bulk waits for quiet hours on purpose
	added(s.OutboundStream(9, bot.Terminal), 24*time.Hour) // news waiting for its citizen
	if d, _ := age(); d != 0 {
		t.Errorf("no sender: oldest %v, want 0 (no channel to bound)", d)
	}

	for _, ch := range []bot.Channel{bot.Zalo, bot.Telegram} {
		if _, err := s.Delivery().heartbeat(ctx, ch, "gw-1", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if d, ch := age(); d < 90*time.Second || d > 10*time.Minute || ch != bot.Zalo {
		t.Errorf("oldest %v on %q, want 90s (and a little) on zalo", d, ch)
	}
	if err := c.XDel(ctx, s.OutboundStream(17, bot.Zalo), old).Err(); err != nil { // sent
		t.Fatal(err)
	}
	if d, _ := age(); d < 30*time.Second || d >= 90*time.Second {
		t.Errorf("after the oldest was sent: oldest %v, want 30s (and a little)", d)
	}
}
