package redisstore

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// QueueStats sums every shard of a lane and ages it by its oldest entry, in the
// server's clock; an empty lane is there with nothing in it.
func TestQueueStats(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	var msgs []bot.Outbound
	for i, id := range []string{"101", "102", "103"} {
		conv := bot.ConversationRef{Channel: bot.Telegram, ID: id}
		msgs = append(msgs, bot.Outbound{ID: "b" + strconv.Itoa(i), Conversation: conv, Reply: bot.Reply{Text: "nhắc"}})
	}
	if err := s.QueueBulk(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	now, err := c.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	// A reply queued five minutes ago, in a shard of its own.
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "104"}
	old := strconv.FormatInt(now.Add(-5*time.Minute).UnixMilli(), 10) + "-0"
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: s.OutboundStream(ShardOf(conv), bot.Telegram), ID: old,
		Values: []any{"m", "{}"}}).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.QueueStats(ctx, []bot.Channel{bot.Telegram, bot.Zalo})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"telegram/replies": 1, "telegram/bulk": 3, "zalo/replies": 0, "zalo/bulk": 0, "/outbox": 0}
	if len(got) != len(want) {
		t.Fatalf("QueueStats = %+v, want the lanes %v", got, want)
	}
	for _, q := range got {
		name := string(q.Channel) + "/" + q.Lane
		if d, ok := want[name]; !ok || q.Depth != d {
			t.Errorf("%s: depth %d, want %d (known: %v)", name, q.Depth, d, ok)
		}
		switch {
		case name == "telegram/replies" && (q.Oldest < 5*time.Minute || q.Oldest > time.Hour):
			t.Errorf("%s: oldest %s, want about 5m", name, q.Oldest)
		case q.Depth == 0 && q.Oldest != 0:
			t.Errorf("%s: empty, yet its oldest is %s", name, q.Oldest)
		}
	}
}

// BenchmarkQueueStats is one scrape's read of the queues of two channels and the
// outbox, with messages waiting in a few shards: one pipeline.
func BenchmarkQueueStats(b *testing.B) {
	s := New(redistest.Client(b), Options{Prefix: redistest.Prefix(b)})
	ctx := context.Background()
	var msgs []bot.Outbound
	for i := range 100 {
		conv := bot.ConversationRef{Channel: bot.Telegram, ID: strconv.Itoa(i)}
		msgs = append(msgs, bot.Outbound{ID: "b" + strconv.Itoa(i), Conversation: conv, Reply: bot.Reply{Text: "nhắc"}})
	}
	if err := s.QueueBulk(ctx, msgs); err != nil {
		b.Fatal(err)
	}
	channels := []bot.Channel{bot.Telegram, bot.Zalo}
	for b.Loop() {
		if _, err := s.QueueStats(ctx, channels); err != nil {
			b.Fatal(err)
		}
	}
}
