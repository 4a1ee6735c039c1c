package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// Two gateway processes send one broadcast together, with TELEGRAM_BULK_RATE as
// shipped, to a fake Bot API that answers 429 with retry_after beyond 30 sends a
// second, as Telegram does: the fake never takes more than 30 in any second, from
// both processes together, answers 429 rarely if ever (a send held back by a busy
// machine; it is tried again after retry_after), each recipient gets one send, and the
// broadcast goes at 27 a second or more from its first send to its last. The shipped limit, 30 per 1.1 s, tends to
// 27.3 a second over a long broadcast; the log also gives the rate without the first
// second's 30, which is that.
func TestBulkRateAcrossProcesses(t *testing.T) {
	const n, first = 300, 830_000_000
	api := telegramtest.NewServer(t)
	api.LimitSends(telegramLimit, time.Second)
	front := newTelegramFront(t, api)
	env := newTestEnv(t).set(telegramVars(api)...).set(
		"BULK_QUIET_HOURS", "none", // the test may run at night in Hanoi
	)
	seedSubscribers(t, env, first, n)
	st := envStore(t, env)
	one := startProcess(t, "one gateway", env.set("TELEGRAM_API_ENDPOINT", front.endpoint("one")))
	two := startProcess(t, "another gateway", env.set("TELEGRAM_API_ENDPOINT", front.endpoint("two")))
	// Both send only once both hold shards of the bulk lane: on a busy machine the one
	// that started first may hold them all for a while.
	waitFor(t, time.Minute, 100*time.Millisecond, "both processes holding bulk shards", func() bool {
		return len(bulkHolders(t, env)) == 2
	})

	id := sendBroadcast(t, env, "📣 Nhắc hạn nộp sáng kiến.", "📣 A reminder of the deadline.")
	waitFor(t, 2*time.Minute, 100*time.Millisecond, "the broadcast sent", func() bool {
		p := broadcastProgress(t, st, id)
		return p.Finished() && p.Queued == n
	})
	one.stop(t)
	two.stop(t)

	// The processes pace themselves by Redis's clock and Telegram counts by its own:
	// a send the machine held back a moment can arrive beside the next second's. The
	// fake then answers 429, as Telegram does, and the send is tried again after its
	// retry_after. That may happen now and then (a loaded CI machine), never often, and
	// every recipient still gets the broadcast once.
	var calls []telegramtest.Request
	limited, got := 0, map[string]int{}
	for _, c := range api.Calls("sendMessage") {
		if c.Limited {
			limited++
			continue
		}
		calls = append(calls, c)
		got[c.Params["chat_id"]]++
	}
	if len(calls) != n || len(got) != n {
		t.Errorf("%d sends taken for %d chats, want %d: one per recipient", len(calls), len(got), n)
	}
	if limited > 3 {
		t.Errorf("%d sends were answered 429: the shared pace keeps under Telegram's limit but for a rare one", limited)
	}
	if most := busiestSecond(calls); most > telegramLimit {
		t.Errorf("%d sends in one second, over Telegram's %d", most, telegramLimit)
	}
	span := calls[len(calls)-1].At.Sub(calls[0].At)
	rate := float64(len(calls)) / span.Seconds()
	if rate < 27 {
		t.Errorf("%d sends in %s: %.1f a second, want at least 27", len(calls), span, rate)
	}
	by := map[string]int{}
	for _, s := range front.sends() {
		by[s.process]++
	}
	if by["one"] == 0 || by["two"] == 0 {
		t.Errorf("the processes sent %d and %d: both should have taken part", by["one"], by["two"])
	}
	if p := broadcastProgress(t, st, id); p.Sent != n {
		t.Errorf("progress: %+v, want %d sent", p, n)
	}
	t.Logf("%d sends in %s (%.1f/s; %.1f/s after the first %d), at most %d in a second, %d answered 429; %d by one process, %d by the other",
		len(calls), span.Round(time.Millisecond), rate, float64(len(calls)-telegramLimit)/span.Seconds(), telegramLimit,
		busiestSecond(calls), limited, by["one"], by["two"])
}

// telegramLimit is how many bulk sends Telegram takes in a second.
const telegramLimit = 30

// Two processes told to send three times faster than Telegram takes (TELEGRAM_BULK_RATE
// 90/1s, against the fake's 30 a second): Telegram's 429s slow them down instead.
// Every message is tried again no sooner than its retry_after said, and every
// recipient is sent the broadcast once, however many 429s came before.
func TestBulkObeysRetryAfter(t *testing.T) {
	const n, first = 150, 840_000_000
	api := telegramtest.NewServer(t)
	api.LimitSends(telegramLimit, time.Second)
	env := newTestEnv(t).set(telegramVars(api)...).set(
		"BULK_QUIET_HOURS", "none", // the test may run at night in Hanoi
		"TELEGRAM_BULK_RATE", "90/1s",
	)
	seedSubscribers(t, env, first, n)
	st := envStore(t, env)
	one := startProcess(t, "one gateway", env)
	two := startProcess(t, "another gateway", env)
	id := sendBroadcast(t, env, "📣 Nhắc hạn nộp sáng kiến.", "📣 A reminder of the deadline.")
	waitFor(t, 2*time.Minute, 100*time.Millisecond, "the broadcast sent", func() bool {
		p := broadcastProgress(t, st, id)
		return p.Finished() && p.Queued == n
	})
	one.stop(t)
	two.stop(t)

	type chat struct {
		sent    int
		waitEnd time.Time // the last 429's retry_after ends
	}
	chats := map[string]*chat{}
	limited := 0
	for _, c := range api.Calls("sendMessage") {
		ch := chats[c.Params["chat_id"]]
		if ch == nil {
			ch = &chat{}
			chats[c.Params["chat_id"]] = ch
		}
		if c.At.Before(ch.waitEnd) {
			t.Errorf("chat %s tried again %s before its retry_after ended", c.Params["chat_id"], ch.waitEnd.Sub(c.At))
		}
		if c.Limited {
			limited++
			ch.waitEnd = c.At.Add(time.Duration(c.RetryAfter) * time.Second)
			continue
		}
		ch.sent++
	}
	if limited == 0 {
		t.Error("no send was answered 429: the test tried nothing")
	}
	for i := range n {
		sent := 0
		if c := chats[fmt.Sprint(first+i)]; c != nil {
			sent = c.sent
		}
		if sent != 1 {
			t.Errorf("chat %d was sent the broadcast %d times, want once", first+i, sent)
		}
	}
	if p := broadcastProgress(t, st, id); p.Sent != n || p.Failed != 0 {
		t.Errorf("progress: %+v, want %d sent", p, n)
	}
	t.Logf("%d recipients, %d answers 429, each obeyed", n, limited)
}

// bulkHolders are the processes that hold a shard of Telegram's bulk lane now, by the
// holder part of each shard's lease token.
func bulkHolders(t *testing.T, env testEnv) map[string]bool {
	t.Helper()
	c := redistest.Client(t)
	ctx := context.Background()
	pipe := c.Pipeline()
	cmds := make([]*redis.StringCmd, redisstore.Shards)
	for sh := range redisstore.Shards {
		cmds[sh] = pipe.Get(ctx, fmt.Sprintf("%s:{s%02d}:lease:bulk:telegram", env["REDIS_PREFIX"], sh))
	}
	_, _ = pipe.Exec(ctx) // a shard nobody holds answers redis.Nil
	holders := map[string]bool{}
	for _, cmd := range cmds {
		if token, err := cmd.Result(); err == nil {
			holder, _, _ := strings.Cut(token, "/")
			holders[holder] = true
		}
	}
	return holders
}
