package redisstore

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// lostAnswer lets the first XREADGROUP that reads something, once armed, run in Redis
// and then reports the connection broken: Redis stopped between running the read and
// answering it (the fault suite's Redis restart found this).
type lostAnswer struct{ armed, fired atomic.Bool }

func (h *lostAnswer) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *lostAnswer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *lostAnswer) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if cmd.Name() == "xreadgroup" && err == nil && h.armed.CompareAndSwap(true, false) {
			h.fired.Store(true)
			cmd.SetErr(io.ErrUnexpectedEOF)
			return io.ErrUnexpectedEOF
		}
		return err
	}
}

// A reply whose read ran in Redis but whose answer never came is pending for the
// sender in Redis and unknown to it: the sender reads it again once it has been
// pending Orphans, and sends it once. A reply it claimed and still holds is not read
// again, however long it waits.
func TestSenderRecoversARepliesReadWhoseAnswerWasLost(t *testing.T) {
	client := redistest.Client(t)
	hook := &lostAnswer{}
	client.AddHook(hook)
	s := New(client, Options{Prefix: redistest.Prefix(t)})
	ctx := context.Background()
	const orphans = 150 * time.Millisecond
	a := s.Delivery().Sender(bot.Telegram, "a", SenderOptions{Pickup: 20 * time.Millisecond, Poll: 5 * time.Millisecond, Orphans: orphans})
	t.Cleanup(func() { _ = a.Close(ctx) })
	waitUntil(t, "a to hold every shard", func() bool {
		_, _ = a.Claim(ctx, 1)
		return holders(t, s)["a"] == Shards
	})

	held := bot.ConversationRef{Channel: bot.Telegram, ID: "9101"}
	commit(t, s, held, "e1", bot.Change{Session: sampleSession(held), Replies: []bot.Outbound{{ID: "r-held", Conversation: held, Reply: bot.Reply{Text: "held"}}}})
	first := claimUntil(t, a, 1)

	lost := bot.ConversationRef{Channel: bot.Telegram, ID: "9102"}
	hook.armed.Store(true)
	commit(t, s, lost, "e2", bot.Change{Session: sampleSession(lost), Replies: []bot.Outbound{{ID: "r-lost", Conversation: lost, Reply: bot.Reply{Text: "lost"}}}})
	var got []bot.Delivery
	waitUntil(t, "the reply read again", func() bool {
		more, _ := a.Claim(ctx, 10) // the lost answer's error, then nothing, then the orphan
		got = append(got, more...)
		return len(got) > 0
	})
	if !hook.fired.Load() {
		t.Fatal("the read's answer was never lost: the test proves nothing")
	}
	if len(got) != 1 || got[0].Outbound.ID != "r-lost" {
		t.Fatalf("read again: %+v, want only r-lost", got)
	}
	if err := a.Ack(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	// Long past Orphans: the held reply is still the sender's, not an orphan, and the
	// acknowledged one is gone.
	time.Sleep(3 * orphans)
	for range 5 {
		more, err := a.Claim(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(more) > 0 {
			t.Fatalf("claimed again %+v; r-held is still being sent, r-lost was acknowledged", more)
		}
		time.Sleep(orphans)
	}
	if err := a.Ack(ctx, first[0]); err != nil {
		t.Fatal(err)
	}
}
