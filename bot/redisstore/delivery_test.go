package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

func TestShardLease(t *testing.T) {
	s, _ := newStore(t)
	q, ctx := s.Delivery(), context.Background()
	for _, step := range []struct {
		consumer string
		want     bool
	}{{"a", true}, {"a", true}, {"b", false}} {
		ok, err := q.own(ctx, bot.Telegram, 3, step.consumer, time.Minute)
		if err != nil || ok != step.want {
			t.Fatalf("own(%s) = %v, %v; want %v", step.consumer, ok, err, step.want)
		}
	}
	if err := q.disown(ctx, bot.Telegram, 3, "b"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := q.own(ctx, bot.Telegram, 3, "b", time.Minute); ok {
		t.Fatal("b took a shard a still holds after b's own Disown")
	}
	if err := q.disown(ctx, bot.Telegram, 3, "a"); err != nil {
		t.Fatal(err)
	}
	if ok, err := q.own(ctx, bot.Telegram, 3, "b", time.Minute); err != nil || !ok {
		t.Fatalf("b could not take the shard a gave back: %v, %v", ok, err)
	}
}

func TestHeartbeatCountsLiveConsumers(t *testing.T) {
	s, _ := newStore(t)
	q, ctx := s.Delivery(), context.Background()
	for i, c := range []string{"a", "b", "a"} {
		n, err := q.heartbeat(ctx, bot.Zalo, c, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want := min(i+1, 2); n != want {
			t.Fatalf("beat %d: %d alive, want %d", i, n, want)
		}
	}
	if n, _ := q.heartbeat(ctx, bot.Telegram, "z", time.Minute); n != 1 {
		t.Fatalf("channels share their members: %d alive", n)
	}
}

func TestReserveSlidingWindow(t *testing.T) {
	s, _ := newStore(t)
	q, ctx := s.Delivery(), context.Background()
	for i := range 3 {
		if wait, err := q.Reserve(ctx, "k", 3, time.Minute); err != nil || wait != 0 {
			t.Fatalf("reservation %d: wait %v, %v", i, wait, err)
		}
	}
	wait, err := q.Reserve(ctx, "k", 3, time.Minute)
	if err != nil || wait <= 50*time.Second || wait > time.Minute {
		t.Fatalf("fourth reservation: wait %v, %v; want most of a minute", wait, err)
	}
	if wait, _ := q.Reserve(ctx, "other", 3, time.Minute); wait != 0 {
		t.Fatal("limits of different keys are shared")
	}
}

// A paused limit lets nothing through, in any process, until the pause ends; a
// shorter pause does not cut a longer one; other limits go on.
func TestReservePaused(t *testing.T) {
	s, _ := newStore(t)
	q, ctx := s.Delivery(), context.Background()
	if err := q.Pause(ctx, "k", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := q.Pause(ctx, "k", time.Second); err != nil {
		t.Fatal(err)
	}
	wait, err := s.Delivery().Reserve(ctx, "k", 30, time.Second)
	if err != nil || wait <= 2*time.Second || wait > 3*time.Second {
		t.Fatalf("reservation while paused: wait %v, %v; want the rest of the 3 s pause", wait, err)
	}
	if wait, _ := q.Reserve(ctx, "other", 30, time.Second); wait != 0 {
		t.Fatalf("another limit waits %v", wait)
	}
	if err := q.Pause(ctx, "short", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if wait, _ := q.Reserve(ctx, "short", 30, time.Second); wait != 0 {
		t.Fatalf("a pause that ended still holds: wait %v", wait)
	}
}

func TestReadFailAndUnreadableEntries(t *testing.T) {
	s, c := newStore(t)
	q, ctx := s.Delivery(), context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "555"}
	sh := ShardOf(conv)
	out := bot.Outbound{ID: "e/0", Conversation: conv, Reply: bot.Reply{Text: "chào"}}
	commit(t, s, conv, "e", bot.Change{Session: sampleSession(conv), Replies: []bot.Outbound{out}})
	// An entry nobody can read (written by hand, or by a future version).
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: s.OutboundStream(sh, bot.Telegram), Values: []string{"m", "{not json"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if ok, err := q.own(ctx, bot.Telegram, sh, "p", time.Minute); err != nil || !ok {
		t.Fatalf("Own = %v, %v", ok, err)
	}
	got, err := q.read(ctx, bot.Telegram, sh, "p", 10)
	if err != nil || len(got) != 1 || got[0].Outbound.ID != "e/0" {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	if err := q.fail(ctx, got[0], bot.DeliveryFailure{Outbound: got[0].Outbound, Failure: "permanent", Code: 400, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	fails, err := q.Failures(ctx, bot.Telegram, 10)
	if err != nil || len(fails) != 2 {
		t.Fatalf("Failures = %+v, %v; want the failed and the unreadable entry", fails, err)
	}
	if n, _ := c.XLen(ctx, s.OutboundStream(sh, bot.Telegram)).Result(); n != 0 {
		t.Fatalf("%d entries left in the queue", n)
	}
	if more, err := q.read(ctx, bot.Telegram, sh, "p", 10); err != nil || len(more) != 0 {
		t.Fatalf("Read of an empty queue = %+v, %v", more, err)
	}
	// The stream vanishes (flushed by hand): reading says so, and Own makes it again.
	c.Del(ctx, s.OutboundStream(sh, bot.Telegram))
	if _, err := q.read(ctx, bot.Telegram, sh, "p", 10); err == nil {
		t.Fatal("read from a missing group succeeded")
	}
	// A fresh claim reads what former owners left unfinished first; that fails too.
	if err := q.disown(ctx, bot.Telegram, sh, "p"); err != nil {
		t.Fatal(err)
	}
	if ok, err := q.own(ctx, bot.Telegram, sh, "p", time.Minute); err != nil || !ok {
		t.Fatalf("Own = %v, %v", ok, err)
	}
	c.Del(ctx, s.OutboundStream(sh, bot.Telegram))
	if _, err := q.read(ctx, bot.Telegram, sh, "p", 10); err == nil {
		t.Fatal("reclaim from a missing group succeeded")
	}
	if _, err := q.own(ctx, bot.Telegram, sh, "p", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := q.read(ctx, bot.Telegram, sh, "p", 10); err != nil {
		t.Fatalf("read after the group was made again: %v", err)
	}
}

// A tracked reply's fate is kept with the conversation (sent, or failed with the
// provider's reason), the consoles are told, and an untracked reply leaves no trace.
func TestTrackedDeliveries(t *testing.T) {
	s, _ := newStore(t)
	q, ctx := s.Delivery(), context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "556"}
	sh := ShardOf(conv)
	told := s.DeskChanges(ctx)
	outs := []bot.Outbound{
		{ID: "s/0", Conversation: conv, Reply: bot.Reply{Text: "Chào bạn"}, Track: true},
		{ID: "s/1", Conversation: conv, Reply: bot.Reply{Text: "Bạn cần gì?"}, Track: true},
		{ID: "s/2", Conversation: conv, Reply: bot.Reply{Text: "ok"}},
	}
	commit(t, s, conv, "s", bot.Change{Session: sampleSession(conv), Replies: outs})
	if st, err := s.Deliveries(ctx, conv); err != nil || len(st) != 0 {
		t.Fatalf("before sending: %+v, %v; want nothing (queued)", st, err)
	}
	if ok, err := q.own(ctx, bot.Telegram, sh, "p", time.Minute); err != nil || !ok {
		t.Fatalf("Own = %v, %v", ok, err)
	}
	got, err := q.read(ctx, bot.Telegram, sh, "p", 10)
	if err != nil || len(got) != 3 {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	if err := q.done(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	failedAt := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if err := q.fail(ctx, got[1], bot.DeliveryFailure{Outbound: got[1].Outbound, Failure: "gone", Code: 403,
		Detail: "Forbidden: bot was blocked by the user", At: failedAt}); err != nil {
		t.Fatal(err)
	}
	if err := q.done(ctx, got[2]); err != nil {
		t.Fatal(err)
	}
	st, err := s.Deliveries(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st["s/0"].State != bot.DeliverySent || st["s/0"].At.IsZero() {
		t.Errorf("deliveries = %+v; want s/0 sent and s/1 failed only", st)
	}
	if f := st["s/1"]; f.State != bot.DeliveryFailed || f.Failure != "gone" || f.Detail != "Forbidden: bot was blocked by the user" || !f.At.Equal(failedAt) {
		t.Errorf("the failed reply: %+v", f)
	}
	// The commit told of its desk change; then one hint per tracked reply finished.
	n := 0
	for n < 3 {
		select {
		case key := <-told:
			if key != conv.Key() {
				t.Errorf("told of %q", key)
			}
			n++
		case <-time.After(5 * time.Second):
			t.Fatalf("told %d times, want 3 (the commit and two tracked replies)", n)
		}
	}
}

// A message queued for one channel wakes that channel's senders of its lane only: the
// others would read every shard they hold for nothing (a web chat's reply sender woke
// at every Telegram reply, doubling the reads of a busy Telegram gateway).
func TestWakesOnlyTheChannelsSenders(t *testing.T) {
	w := newWakes()
	tg, web, bulk := w.of("out", bot.Telegram).wait(), w.of("out", bot.Web).wait(), w.of("bulk", bot.Telegram).wait()
	w.signal("out", bot.Telegram, 7)
	w.signal("out", bot.Telegram, 31)
	select {
	case <-tg:
	default:
		t.Fatal("the Telegram reply senders were not woken")
	}
	if got := w.of("out", bot.Telegram).take(); !got.has(7) || !got.has(31) || got.has(0) {
		t.Errorf("signalled shards %b, want 7 and 31", got)
	}
	if got := w.of("out", bot.Telegram).take(); got != 0 {
		t.Errorf("signalled shards taken twice: %b", got)
	}
	for name, ch := range map[string]<-chan struct{}{"web chat replies": web, "Telegram bulk": bulk} {
		select {
		case <-ch:
			t.Errorf("the %s senders were woken by a Telegram reply", name)
		default:
		}
	}
}
