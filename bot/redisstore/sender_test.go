package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// claimUntil claims from q until want replies came, and fails the test after a while.
func claimUntil(t *testing.T, q bot.DeliveryQueue, want int) []bot.Delivery {
	t.Helper()
	var got []bot.Delivery
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < want {
		if time.Now().After(deadline) {
			t.Fatalf("claimed %d replies, want %d", len(got), want)
		}
		more, err := q.Claim(context.Background(), want)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, more...)
	}
	return got
}

// holders counts the Telegram shards each sender holds, from the leases in Redis.
func holders(t *testing.T, s *Store) map[string]int {
	t.Helper()
	c := redistest.Client(t)
	out := map[string]int{}
	for sh := range Shards {
		v, err := c.Get(context.Background(), s.Delivery().leaseKey(bot.Telegram, sh)).Result()
		if err == nil {
			holder, _, _ := strings.Cut(v, "/")
			out[holder]++
		}
	}
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Replies come in queue order within a conversation, each once. A second sender gets
// half the shards; the first gives a shard back only once the replies it claimed there
// are finished.
func TestSendersShareShardsAndFinishBeforeGivingBack(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	opt := SenderOptions{Hold: 3 * time.Second, Pickup: 20 * time.Millisecond, Poll: 5 * time.Millisecond}
	// One conversation in every shard, the first with three replies.
	convs := map[int]bot.ConversationRef{}
	for i := 0; len(convs) < Shards; i++ {
		conv := bot.ConversationRef{Channel: bot.Telegram, ID: fmt.Sprint(9000 + i)}
		if _, ok := convs[ShardOf(conv)]; !ok {
			convs[ShardOf(conv)] = conv
		}
	}
	first := convs[0]
	for sh, conv := range convs {
		out := []bot.Outbound{{ID: conv.ID + "/0", Conversation: conv, Reply: bot.Reply{Text: "x"}}}
		if sh == 0 {
			out = append(out, bot.Outbound{ID: conv.ID + "/1", Conversation: conv}, bot.Outbound{ID: conv.ID + "/2", Conversation: conv})
		}
		commit(t, s, conv, "e", bot.Change{Session: sampleSession(conv), Replies: out})
	}
	a := s.Delivery().Sender(bot.Telegram, "a", opt)
	t.Cleanup(func() { _ = a.Close(ctx) })
	got := claimUntil(t, a, Shards+2)
	var order []string
	for _, d := range got {
		if d.Lost == nil {
			t.Fatalf("claimed %s without its hold", d.Outbound.ID)
		}
		if d.Outbound.Conversation == first {
			order = append(order, d.Outbound.ID)
		}
	}
	if want := []string{first.ID + "/0", first.ID + "/1", first.ID + "/2"}; fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("claimed %v, want %v", order, want)
	}
	if more, err := a.Claim(ctx, 10); err != nil || len(more) != 0 {
		t.Fatalf("claimed again: %+v, %v", more, err)
	}

	b := s.Delivery().Sender(bot.Telegram, "b", opt)
	t.Cleanup(func() { _ = b.Close(ctx) })
	go func() {
		for ctx.Err() == nil {
			if _, err := b.Claim(ctx, 10); err != nil {
				return
			}
		}
	}()
	// a marks half its shards to give back, but each has a reply out: it keeps them.
	as := a.(*sender)
	var x int
	waitUntil(t, "a to drain half its shards", func() bool {
		as.mu.Lock()
		defer as.mu.Unlock()
		n := 0
		for sh, h := range as.shards {
			if h.draining {
				n, x = n+1, sh
			}
		}
		return n == Shards/2
	})
	if h := holders(t, s); h["b"] != 0 {
		t.Fatalf("b holds %d shards a has replies out in", h["b"])
	}
	var rest []bot.Delivery
	for _, d := range got {
		if ShardOf(d.Outbound.Conversation) == x {
			rest = append(rest, d)
		} else if err := a.Ack(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the finished shards given to b", func() bool {
		h := holders(t, s)
		return h["a"] == Shards/2+1 && h["b"] == Shards/2-1
	})
	if holderOf(t, s.Delivery(), x) != "a" {
		t.Fatal("a gave a shard back before its claimed replies were finished")
	}
	for _, d := range rest {
		if err := a.Ack(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the last shard given to b", func() bool { return holderOf(t, s.Delivery(), x) == "b" })
	if h := holders(t, s); h["a"] != Shards/2 || h["b"] != Shards/2 {
		t.Fatalf("shards held %v, want half each", h)
	}
	select {
	case <-rest[0].Lost:
	default:
		t.Fatal("a shard given back left its replies' Lost open")
	}
}

func holderOf(t *testing.T, q *Delivery, shard int) string {
	t.Helper()
	v, _ := redistest.Client(t).Get(context.Background(), q.leaseKey(bot.Telegram, shard)).Result()
	holder, _, _ := strings.Cut(v, "/")
	return holder
}

// Close gives every lease back and leaves the live senders at once.
func TestSenderCloseGivesEverythingBack(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	a := s.Delivery().Sender(bot.Telegram, "a", SenderOptions{Pickup: 20 * time.Millisecond, Poll: 5 * time.Millisecond})
	for len(holders(t, s)) == 0 {
		if _, err := a.Claim(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "a to hold every shard", func() bool { return holders(t, s)["a"] == Shards })
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if h := holders(t, s); len(h) != 0 {
		t.Fatalf("after Close the leases are held by %v", h)
	}
	if n, err := c.ZCard(ctx, s.Delivery().membersKey(bot.Telegram)).Result(); err != nil || n != 0 {
		t.Fatalf("%d live senders after Close (%v)", n, err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}

// A sender that cannot reach Redis stops its sends (Lost) while its lease still
// holds: another process, taking the shard over after the lease runs out, never sends
// alongside it. Acknowledging under a lost hold fails, and closes Lost too.
func TestSenderLosesItsHoldBeforeTheLeaseRunsOut(t *testing.T) {
	client := redistest.Client(t)
	outage := &redistest.Outage{}
	client.AddHook(outage)
	prefix := redistest.Prefix(t)
	s := New(client, Options{Prefix: prefix})
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "9002"}
	commit(t, s, conv, "e", bot.Change{Session: sampleSession(conv), Replies: []bot.Outbound{{ID: "r0", Conversation: conv, Reply: bot.Reply{Text: "x"}}}})
	const hold = 1500 * time.Millisecond
	a := s.Delivery().Sender(bot.Telegram, "a", SenderOptions{Hold: hold, Pickup: 20 * time.Millisecond, Poll: 5 * time.Millisecond})
	t.Cleanup(func() { _ = a.Close(ctx) })
	got := claimUntil(t, a, 1)
	outage.Begin()
	select {
	case <-got[0].Lost:
	case <-time.After(10 * time.Second):
		t.Fatal("the hold was never given up")
	}
	left, err := redistest.Client(t).PTTL(ctx, s.Delivery().leaseKey(bot.Telegram, ShardOf(conv))).Result()
	if err != nil || left <= 0 {
		t.Fatalf("the lease ran out (%v, %v) before the sends were stopped", left, err)
	}
	outage.End()
	// The lease is still in Redis, but the hold was given up: the shard is read again
	// under a new claim, so what was claimed under the old one must not count.
	if err := a.Ack(ctx, got[0]); !errors.Is(err, ErrLeaseLost) || !errors.Is(err, bot.ErrClaimLost) {
		t.Fatalf("Ack under a given-up hold = %v, want ErrLeaseLost", err)
	}
}

// Bulk messages go to their own lane: a bulk sender claims them, a reply sender does
// not, and they keep their order within a conversation.
func TestQueueBulkFillsTheBulkLane(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "9003"}
	var msgs []bot.Outbound
	for i := range 3 {
		msgs = append(msgs, bot.Outbound{ID: fmt.Sprintf("b%d", i), Conversation: conv, Reply: bot.Reply{Text: "nhắc"}})
	}
	if err := s.QueueBulk(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if n, err := c.XLen(ctx, s.BulkStream(ShardOf(conv), bot.Telegram)).Result(); err != nil || n != 3 {
		t.Fatalf("bulk stream holds %d (%v), want 3", n, err)
	}
	opt := SenderOptions{Pickup: 20 * time.Millisecond, Poll: 5 * time.Millisecond}
	replies := s.Delivery().Sender(bot.Telegram, "a", opt)
	bulk := s.Bulk().Sender(bot.Telegram, "a", opt)
	t.Cleanup(func() { _ = replies.Close(ctx); _ = bulk.Close(ctx) })
	got := claimUntil(t, bulk, 3)
	for i, d := range got {
		if d.Outbound.ID != msgs[i].ID {
			t.Fatalf("bulk claim %d = %s, want %s", i, d.Outbound.ID, msgs[i].ID)
		}
		if err := bulk.Ack(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		if more, err := replies.Claim(ctx, 10); err != nil || len(more) != 0 {
			t.Fatalf("the reply lane claimed %+v, %v", more, err)
		}
	}
	if n, _ := c.XLen(ctx, s.BulkStream(ShardOf(conv), bot.Telegram)).Result(); n != 0 {
		t.Fatalf("%d bulk messages left after their acks", n)
	}
}

// A Claim woken by this process's reply reads the reply's shard, not every shard it
// holds; what another process queued in another shard (no wakeup here) is read within
// Poll all the same.
func TestWokenClaimReadsTheSignalledShard(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	const poll = time.Second
	a := s.Delivery().Sender(bot.Telegram, "a", SenderOptions{Pickup: 20 * time.Millisecond, Poll: poll})
	waitUntil(t, "a to hold every shard", func() bool {
		if _, err := a.Claim(ctx, 1); err != nil {
			t.Fatal(err)
		}
		return holders(t, s)["a"] == Shards
	})
	mine := bot.ConversationRef{Channel: bot.Telegram, ID: "71000001"}
	other := mine
	for i := 2; ShardOf(other) == ShardOf(mine); i++ {
		other.ID = fmt.Sprint(71000000 + i)
	}
	time.Sleep(poll) // the next Claim reads every shard, then waits
	go func() {
		time.Sleep(100 * time.Millisecond) // while the Claim below waits, after its read of every shard
		raw, _ := json.Marshal(bot.Outbound{ID: "theirs/0", Conversation: other})
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: s.Delivery().stream(ShardOf(other), bot.Telegram), Values: []any{"m", raw}}).Err(); err != nil {
			t.Error(err)
		}
		commit(t, s, mine, "mine", bot.Change{Session: sampleSession(mine), Replies: []bot.Outbound{{ID: "mine/0", Conversation: mine}}})
	}()
	if got, err := a.Claim(ctx, 2*Shards); err != nil || len(got) != 0 {
		t.Fatalf("first Claim: %d replies (%v), want none yet, then the wakeup", len(got), err)
	}
	got, err := a.Claim(ctx, 2*Shards)
	if err != nil || len(got) != 1 || got[0].Outbound.ID != "mine/0" {
		t.Fatalf("woken Claim: %+v (%v), want this process's reply alone", got, err)
	}
	got = claimUntil(t, a, 1)
	if got[0].Outbound.ID != "theirs/0" {
		t.Errorf("then %+v, want the other process's reply", got)
	}
}
