package redisstore

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// convsInShards returns n conversations that live in n different shards.
func convsInShards(t *testing.T, n int) []bot.ConversationRef {
	t.Helper()
	seen := map[int]bool{}
	var out []bot.ConversationRef
	for i := 0; len(out) < n; i++ {
		c := bot.ConversationRef{Channel: bot.Telegram, ID: fmt.Sprint(1000 + i)}
		if sh := ShardOf(c); !seen[sh] {
			seen[sh] = true
			out = append(out, c)
		}
	}
	return out
}

// submit commits one submission per conversation and returns their ids.
func submit(t *testing.T, s *Store, convs []bot.ConversationRef) []string {
	t.Helper()
	var ids []string
	for i, conv := range convs {
		id := fmt.Sprintf("sub-%d", i)
		commit(t, s, conv, "e"+id, bot.Change{Submission: &bot.Submission{
			ID: id, Reference: fmt.Sprintf("SK-2026-%06d", i+1), Kind: bot.KindFeedback, Conversation: conv,
		}})
		ids = append(ids, id)
	}
	return ids
}

func claim(t *testing.T, s *Store, consumer string, n int, idle, block time.Duration) []bot.OutboxItem {
	t.Helper()
	items, err := s.Claim(context.Background(), consumer, n, idle, block)
	if err != nil {
		t.Fatalf("Claim(%s): %v", consumer, err)
	}
	return items
}

func submissionIDs(items []bot.OutboxItem) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, it.Submission.ID)
	}
	sort.Strings(ids)
	return ids
}

func outboxLen(t *testing.T, s *Store) int64 {
	t.Helper()
	var n int64
	for sh := range Shards {
		n += s.c.XLen(context.Background(), s.outboxStream(sh)).Val()
	}
	return n
}

func TestClaimAck(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	// Submissions written before any consumer group exists must still be delivered.
	want := submit(t, s, convsInShards(t, 3))

	items := claim(t, s, "a", 10, time.Minute, 0)
	if got := submissionIDs(items); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("claimed %v, want %v", got, want)
	}
	for _, it := range items {
		if it.Deliveries != 1 || it.Submission.Reference == "" {
			t.Errorf("item %+v: want first delivery with the whole submission", it)
		}
		if err := s.Ack(ctx, it); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
	if n := outboxLen(t, s); n != 0 {
		t.Errorf("outbox holds %d entries after Ack, want 0", n)
	}
	// Nothing left: Claim waits block (several polls) and returns nothing.
	if items := claim(t, s, "a", 10, time.Minute, 200*time.Millisecond); len(items) != 0 {
		t.Errorf("claimed %v after acking all, want none", submissionIDs(items))
	}
	// A new submission arrives while a second store's consumer waits.
	other := New(s.c, Options{Prefix: s.prefix})
	done := make(chan []bot.OutboxItem)
	go func() {
		items, _ := other.Claim(ctx, "b", 1, time.Minute, 5*time.Second)
		done <- items
	}()
	late := bot.ConversationRef{Channel: bot.Zalo, ID: "late"}
	commit(t, s, late, "e1", bot.Change{Submission: &bot.Submission{ID: "sub-late", Conversation: late}})
	if got := <-done; len(got) != 1 || got[0].Submission.ID != "sub-late" {
		t.Errorf("waiting Claim got %v, want sub-late", submissionIDs(got))
	}
}

func TestClaimReclaimsAfterIdle(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	submit(t, s, convsInShards(t, 1))

	a := claim(t, s, "a", 1, time.Minute, 0)
	if len(a) != 1 {
		t.Fatalf("consumer a claimed %d, want 1", len(a))
	}
	// Not idle long enough yet: b finds nothing.
	if b := claim(t, s, "b", 1, time.Minute, 0); len(b) != 0 {
		t.Fatalf("consumer b claimed %v while a holds it", submissionIDs(b))
	}
	time.Sleep(100 * time.Millisecond)
	b := claim(t, s, "b", 1, 50*time.Millisecond, 0)
	if len(b) != 1 || b[0].Entry != a[0].Entry || b[0].Deliveries != 2 {
		t.Fatalf("consumer b claimed %+v, want %s on its second delivery", b, a[0].Entry)
	}
	if err := s.Ack(ctx, b[0]); err != nil {
		t.Fatal(err)
	}
	if n := outboxLen(t, s); n != 0 {
		t.Errorf("outbox holds %d entries after Ack, want 0", n)
	}
}

func TestClaimHandsOutSurplusLater(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	want := submit(t, s, convsInShards(t, 3))
	var got []bot.OutboxItem
	for range 3 {
		items := claim(t, s, "a", 1, time.Minute, 0)
		if len(items) != 1 {
			t.Fatalf("Claim(n=1) returned %d items, want 1", len(items))
		}
		got = append(got, items...)
		if err := s.Ack(ctx, items[0]); err != nil {
			t.Fatal(err)
		}
	}
	if ids := submissionIDs(got); fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("claimed %v, want each of %v once", ids, want)
	}
	if items := claim(t, s, "a", 1, time.Minute, 0); len(items) != 0 {
		t.Errorf("claimed %v after all were acked", submissionIDs(items))
	}
}

func TestSpareExpiresAfterIdle(t *testing.T) {
	s, _ := newStore(t)
	submit(t, s, convsInShards(t, 2))
	if first := claim(t, s, "a", 1, time.Minute, 0); len(first) != 1 {
		t.Fatalf("claimed %d, want 1", len(first))
	}
	time.Sleep(60 * time.Millisecond)
	// The spare item is older than idle: it is dropped from memory and reclaimed from
	// Redis instead, counted as a second delivery.
	items := claim(t, s, "a", 5, 50*time.Millisecond, 0)
	if len(items) != 2 {
		t.Fatalf("claimed %d, want both (the first one reclaimed too)", len(items))
	}
	for _, it := range items {
		if it.Deliveries != 2 {
			t.Errorf("%s: deliveries = %d, want 2", it.Entry, it.Deliveries)
		}
	}
}

func TestClaimSkipsUnreadableEntry(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: s.outboxStream(3), Values: []any{"s", "{broken", "id", "x"}}).Err(); err != nil {
		t.Fatal(err)
	}
	submit(t, s, convsInShards(t, 1))
	items := claim(t, s, "a", 10, time.Minute, 0)
	if ids := submissionIDs(items); fmt.Sprint(ids) != "[sub-0]" {
		t.Errorf("claimed %v, want only the readable sub-0", ids)
	}
}

func TestClaimRecreatesGroups(t *testing.T) {
	s, c := newStore(t)
	claim(t, s, "a", 1, time.Minute, 0) // creates the groups
	for sh := range Shards {
		c.Del(context.Background(), s.outboxStream(sh))
	}
	submit(t, s, convsInShards(t, 1))
	if items := claim(t, s, "a", 1, time.Minute, 0); len(items) != 1 {
		t.Errorf("claimed %d after the streams were removed, want 1", len(items))
	}
}

func TestClaimHonoursContext(t *testing.T) {
	s, _ := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Claim(ctx, "a", 1, time.Minute, time.Minute); err == nil {
		t.Error("Claim with a cancelled context: want an error")
	}
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	// The first read succeeds (on a fresh context it would), then the wait is cut short.
	s2, _ := newStore(t)
	if _, err := s2.Claim(ctx, "a", 1, time.Minute, time.Minute); err == nil {
		t.Error("Claim past its context's deadline: want an error")
	}
}
