package redisstore

import (
	"context"
	"io"
	"strconv"
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

// ProcessPipelineHook loses a pipelined read's answer the same way: on a cluster the
// reads of several shards go as a pipeline, split by node.
func (h *lostAnswer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if cmd.Name() == "xreadgroup" && cmd.Err() == nil && h.armed.CompareAndSwap(true, false) {
				h.fired.Store(true)
				cmd.SetErr(io.ErrUnexpectedEOF)
				return io.ErrUnexpectedEOF
			}
		}
		return err
	}
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

// A process that comes back under the same consumer name (a replica restarted as PID 1
// in its container) finds its predecessor's unfinished replies pending under its name.
// It catches up on them through the shard's reclaim, and the look for orphans leaves
// a shard alone until that is done: each reply is handed out once, not once by each.
func TestOrphansLeaveAShardCatchingUpAlone(t *testing.T) {
	prefix := redistest.Prefix(t)
	s := New(redistest.Client(t), Options{Prefix: prefix})
	ctx := context.Background()
	opts := SenderOptions{Pickup: 20 * time.Millisecond, Poll: 5 * time.Millisecond, Orphans: time.Millisecond}
	a := s.Delivery().Sender(bot.Telegram, "a", opts)
	waitUntil(t, "a to hold every shard", func() bool {
		_, _ = a.Claim(ctx, 1)
		return holders(t, s)["a"] == Shards
	})
	const n = 60
	for i := range n {
		conv := bot.ConversationRef{Channel: bot.Telegram, ID: "92" + strconv.Itoa(100+i)}
		commit(t, s, conv, "e", bot.Change{Session: sampleSession(conv),
			Replies: []bot.Outbound{{ID: "r" + strconv.Itoa(i), Conversation: conv, Reply: bot.Reply{Text: "x"}}}})
	}
	claimUntil(t, a, n) // read, never finished: the process dies
	stop, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_ = a.Close(stop)

	again := New(redistest.Client(t), Options{Prefix: prefix}).Delivery().Sender(bot.Telegram, "a", opts)
	t.Cleanup(func() { _ = again.Close(ctx) })
	seen := map[string]int{}
	total := 0
	deadline := time.Now().Add(10 * time.Second)
	for total < n && time.Now().Before(deadline) {
		got, _ := again.Claim(ctx, 4)
		for _, d := range got {
			seen[d.Outbound.ID]++
			total++
			if err := again.Ack(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	for range 20 { // and nothing more after
		got, _ := again.Claim(ctx, 4)
		for _, d := range got {
			seen[d.Outbound.ID]++
		}
		time.Sleep(2 * time.Millisecond)
	}
	for i := range n {
		if id := "r" + strconv.Itoa(i); seen[id] != 1 {
			t.Errorf("%s handed out %d times, want once", id, seen[id])
		}
	}
}
