package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/broadcast"
)

// echo answers every message: enough for the engine to keep the audiences.
type echo struct{}

func (echo) Respond(_ context.Context, s *bot.Session, ev bot.Event) (bot.Result, error) {
	if ev.Lang != "" {
		s.Profile.Lang = ev.Lang // as the flows do with the channel's language
	}
	if ev.Text == "stop" {
		s.Profile.OptedOut = true
	}
	return bot.Result{Replies: []bot.Reply{{Text: "ok"}}}, nil
}

// crashing is the store of a process killed after it queued a few pages: its
// later pages never reach Redis, and it never gives its shard back.
type crashing struct {
	*redisstore.Store
	pages atomic.Int32
	after int32
}

var errKilled = errors.New("killed")

func (c *crashing) QueueBroadcast(ctx context.Context, sh *redisstore.BroadcastShard, msgs []bot.Outbound, next string) (int, error) {
	if c.pages.Add(1) > c.after {
		return 0, errKilled
	}
	return c.Store.QueueBroadcast(ctx, sh, msgs, next)
}

func (c *crashing) ReleaseBroadcastShard(context.Context, redisstore.BroadcastShard) error {
	return nil
}

// A process killed part-way through a fan-out: another takes its shards over once
// their leases run out and resumes from their cursors; every subscribed citizen is
// queued exactly once, in their language, and the one who said stop not at all.
func TestFanOutResumesAfterACrash(t *testing.T) {
	ctx := context.Background()
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	st := redisstore.New(client, redisstore.Options{Prefix: prefix})
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: echo{}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		ch, lang := bot.Telegram, "vi"
		if i%3 == 0 {
			ch, lang = bot.Zalo, "en"
		}
		ev := bot.Event{ID: fmt.Sprintf("e%d", i), Conversation: bot.ConversationRef{Channel: ch, ID: fmt.Sprint(10000 + i)},
			Kind: bot.EventText, Text: "xin chào", Lang: lang, At: time.Now()}
		if i == 7 {
			ev.Text = "stop"
		}
		if _, err := e.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	b := bot.Broadcast{ID: "crash", Audience: bot.AudienceQuery{Kind: bot.AudienceSubscribed}, Text: bot.Text{VI: "Nhắc hạn", EN: "Deadline"},
		At: time.Now(), Created: time.Now(), State: bot.BroadcastScheduled}
	if err := st.SaveBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	killed := &crashing{Store: st, after: 5}
	first := &broadcast.Runner{Store: killed, Holder: "p1", Page: 7, Hold: 300 * time.Millisecond}
	runCtx, stop := context.WithTimeout(ctx, 2*time.Second)
	_ = first.Run(runCtx) // it fails on every page after the fifth, as a dead process would
	stop()
	second := &broadcast.Runner{Store: st, Holder: "p2", Page: 7, Hold: 300 * time.Millisecond, Tick: 50 * time.Millisecond}
	runCtx, stop = context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	go func() { _ = second.Run(runCtx) }()
	for {
		if got, err := st.Broadcast(ctx, "crash"); err == nil && got.State == bot.BroadcastQueued {
			break
		}
		if runCtx.Err() != nil {
			t.Fatal("the fan-out did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	seen := map[string]int{}
	for sh := range redisstore.Shards {
		for _, ch := range []bot.Channel{bot.Telegram, bot.Zalo} {
			msgs, err := client.XRange(ctx, st.BulkStream(sh, ch), "-", "+").Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				t.Fatal(err)
			}
			for _, m := range msgs {
				raw := m.Values["m"].(string)
				seen[raw]++
			}
		}
	}
	if len(seen) != n-1 {
		t.Errorf("%d distinct messages queued, want %d (everyone but the one who said stop)", len(seen), n-1)
	}
	english := 0
	for raw, k := range seen {
		if k != 1 {
			t.Errorf("queued %d times: %s", k, raw)
		}
		if strings.Contains(raw, `"text":"Deadline"`) {
			english++
		}
	}
	if english != n/3 {
		t.Errorf("%d messages in English, want the %d citizens who write it", english, n/3)
	}
	if p, err := st.BroadcastProgress(ctx, "crash"); err != nil || p.Queued != n-1 || p.ShardsDone != redisstore.Shards {
		t.Errorf("progress: %+v %v", p, err)
	}
}
