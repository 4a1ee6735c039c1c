package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// convsInShards returns n conversations that live in n different shards.
func convsInShards(t testing.TB, n int) []bot.ConversationRef {
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
			ID: id, Reference: fmt.Sprintf("SK-2026-%06d", i+1), Proposal: bot.Proposal{Kind: bot.KindFeedback}, Conversation: conv,
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

	// a's claim is a lease of 50ms (the claimer's own period), which a does not renew.
	a := claim(t, s, "a", 1, 50*time.Millisecond, 0)
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
	if first := claim(t, s, "a", 1, 50*time.Millisecond, 0); len(first) != 1 {
		t.Fatalf("claimed %d, want 1", len(first))
	}
	time.Sleep(60 * time.Millisecond)
	// The spare item is older than a third of the lease period: it is dropped from
	// memory, and claimed again from Redis once its lease ran out, counted as a second
	// delivery.
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

// An unreadable entry is not handed out, and does not stay pending: it moves to the dead
// letters, whole.
func TestClaimBuriesUnreadableEntry(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	stream := s.outboxStream(3)
	bad, err := c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"s", "{broken", "id", "x"}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	submit(t, s, convsInShards(t, 1))
	items := claim(t, s, "a", 10, time.Minute, 0)
	if ids := submissionIDs(items); fmt.Sprint(ids) != "[sub-0]" {
		t.Errorf("claimed %v, want only the readable sub-0", ids)
	}
	if n := c.XLen(ctx, stream).Val(); n != 0 {
		t.Errorf("shard 3's outbox holds %d entries, want the unreadable one gone", n)
	}
	if p := c.XPending(ctx, stream, IntakeGroup).Val(); p.Count != 0 {
		t.Errorf("%d entries pending in shard 3, want none", p.Count)
	}
	dead, err := s.DeadEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 {
		t.Fatalf("dead letters = %+v, want the one unreadable entry", dead)
	}
	d := dead[0]
	if d.Entry != "3/"+bad || d.Fields["s"] != "{broken" || d.Fields["id"] != "x" || d.Reason == "" || d.At.IsZero() {
		t.Errorf("dead letter = %+v, want entry 3/%s whole, with a reason", d, bad)
	}
}

// Unreadable entries of several shards found by one claim all move to the dead letters:
// each shard's in a transaction of its own (one transaction across shards is refused
// on a cluster: CROSSSLOT).
func TestClaimBuriesUnreadableEntriesOfSeveralShards(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	shards := []int{3, 11, 26}
	for _, sh := range shards {
		unreadable(t, s, sh, 2)
	}
	if items := claim(t, s, "a", 10, time.Minute, 0); len(items) != 0 {
		t.Errorf("claimed %v, want nothing readable", submissionIDs(items))
	}
	for _, sh := range shards {
		if n := c.XLen(ctx, s.outboxStream(sh)).Val(); n != 0 {
			t.Errorf("shard %d's outbox holds %d entries, want the unreadable ones gone", sh, n)
		}
	}
	dead, err := s.DeadEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	perShard := map[string]int{}
	for _, d := range dead {
		sh, _, _ := strings.Cut(d.Entry, "/")
		perShard[sh]++
	}
	if fmt.Sprint(perShard) != "map[11:2 26:2 3:2]" {
		t.Errorf("dead letters per shard = %v, want two in each of shards 3, 11 and 26", perShard)
	}
}

// unreadable adds n entries that are no submission to the shard's outbox.
func unreadable(t *testing.T, s *Store, shard, n int) {
	t.Helper()
	for i := range n {
		err := s.c.XAdd(context.Background(), &redis.XAddArgs{
			Stream: s.outboxStream(shard), Values: []any{"s", fmt.Sprintf("not json %d", i)},
		}).Err()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// readAs reads every new entry of the shard's outbox into consumer's pending list, as a
// worker that dies right after does.
func readAs(t *testing.T, s *Store, shard int, consumer string) {
	t.Helper()
	ctx := context.Background()
	if err := s.ensureGroups(ctx); err != nil {
		t.Fatal(err)
	}
	err := s.c.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: IntakeGroup, Consumer: consumer, Streams: []string{s.outboxStream(shard), ">"}, Count: 1000, Block: -1,
	}).Err()
	if err != nil {
		t.Fatal(err)
	}
}

// Unreadable entries at the head of a shard's pending list, more than one claim looks at,
// do not hide the good entry behind them.
func TestClaimPastUnreadableHead(t *testing.T) {
	tests := []struct {
		name string
		n    int // the claim's batch
	}{
		{name: "batch of 10", n: 10},
		{name: "batch of 1", n: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newStore(t)
			ctx := context.Background()
			conv := convsInShards(t, 1)[0]
			shard := ShardOf(conv)
			unreadable(t, s, shard, 12)
			submit(t, s, []bot.ConversationRef{conv})
			readAs(t, s, shard, "dead") // all 13 now wait in a dead worker's pending list
			time.Sleep(5 * time.Millisecond)

			items := claim(t, s, "a", tt.n, time.Millisecond, 5*time.Second)
			if ids := submissionIDs(items); fmt.Sprint(ids) != "[sub-0]" {
				t.Fatalf("claimed %v, want sub-0 from behind the unreadable entries", ids)
			}
			if items[0].Deliveries != 2 {
				t.Errorf("deliveries = %d, want 2 (reclaimed from the dead worker)", items[0].Deliveries)
			}
			if dead, err := s.DeadEntries(ctx); err != nil || len(dead) != 12 {
				t.Errorf("dead letters = %d, %v; want the 12 unreadable entries", len(dead), err)
			}
			if n := c.XLen(ctx, s.outboxStream(shard)).Val(); n != 1 {
				t.Errorf("the outbox holds %d entries, want only sub-0", n)
			}
		})
	}
}

// A due item behind a long backlog of postponed ones in the same shard is handed out:
// each claim goes on where the last one stopped in the pending list.
func TestClaimReachesDueItemBehindBacklog(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	conv := convsInShards(t, 1)[0]
	const backlog = 40 // a claim of 1 looks at no more than 10 pending entries
	for i := range backlog + 1 {
		id := fmt.Sprintf("sub-%02d", i)
		commit(t, s, conv, "e"+id, bot.Change{Submission: &bot.Submission{ID: id, Conversation: conv}})
	}
	const idle = time.Minute
	items := claim(t, s, "w", 100, idle, 0)
	if len(items) != backlog+1 {
		t.Fatalf("claimed %d, want %d", len(items), backlog+1)
	}
	for i, it := range items {
		next := time.Now().Add(time.Hour) // the backlog: not due for an hour
		if i == backlog {
			next = time.Now().Add(-time.Second) // the last one is due
		}
		if err := s.Postpone(ctx, "w", it, bot.DeliveryAttempts{Count: 1, Next: next}, idle); err != nil {
			t.Fatal(err)
		}
	}
	got := claim(t, s, "other", 1, idle, 5*time.Second)
	if ids := submissionIDs(got); fmt.Sprint(ids) != fmt.Sprintf("[sub-%02d]", backlog) {
		t.Fatalf("claimed %v, want the due sub-%02d", ids, backlog)
	}
	// The backlog stays put.
	if more := claim(t, s, "other", 10, idle, 200*time.Millisecond); len(more) != 0 {
		t.Errorf("claimed %v from the backlog before its time", submissionIDs(more))
	}
}

// Hold keeps a consumer's items its own: it renews their leases (and restarts their idle
// time), and reports the ones another consumer took over or that left the outbox.
func TestHold(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	submit(t, s, convsInShards(t, 3))
	items := claim(t, s, "a", 10, time.Minute, 0)
	if len(items) != 3 {
		t.Fatalf("claimed %d, want 3", len(items))
	}
	hold := func(consumer string, items ...bot.OutboxItem) string {
		t.Helper()
		got, err := s.Hold(ctx, consumer, items, time.Minute)
		if err != nil {
			t.Fatalf("Hold(%s): %v", consumer, err)
		}
		return fmt.Sprint(got)
	}
	if got := hold("a", items...); got != "[true true true]" {
		t.Errorf("a holds %s of its own items, want all", got)
	}
	if got := hold("b", items...); got != "[false false false]" {
		t.Errorf("b holds %s of a's items, want none", got)
	}
	const idle = 50 * time.Millisecond
	time.Sleep(idle + 10*time.Millisecond)
	// a renews two of them; the lease on the third runs out (as if a paused for a lease
	// period), and b takes it over.
	if got := hold("a", items[0], items[1]); got != "[true true]" {
		t.Errorf("a renews %s, want both", got)
	}
	s.c.Del(ctx, leaseKeyOf(t, s, items[2]))
	taken := claim(t, s, "b", 10, idle, 0)
	if len(taken) != 1 || taken[0].Entry != items[2].Entry {
		t.Fatalf("b took %+v, want only %s, whose claim a did not renew", taken, items[2].Entry)
	}
	if err := s.Ack(ctx, items[1]); err != nil {
		t.Fatal(err)
	}
	if got := hold("a", items...); got != "[true false false]" {
		t.Errorf("a holds %s, want only the first (the second left, b took the third)", got)
	}
	if _, err := s.Hold(ctx, "a", []bot.OutboxItem{{Entry: "no-shard"}}, time.Minute); err == nil {
		t.Error("Hold of a malformed entry: want an error")
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

// leaseKeyOf is the key of the lease on a claimed item.
func leaseKeyOf(t *testing.T, s *Store, it bot.OutboxItem) string {
	t.Helper()
	shard, id, err := parseEntry(it.Entry)
	if err != nil {
		t.Fatal(err)
	}
	return s.outboxLeaseKey(shard, id)
}

// An Ack, Retry or Fail made under a lease that was lost (it ran out, or another
// consumer took the entry over) is refused with ErrLeaseLost, changes nothing, and the
// entry stays for whoever claims it next.
func TestOutboxStepsAreFenced(t *testing.T) {
	steps := []struct {
		name string
		run  func(ctx context.Context, q bot.Outbox, it bot.OutboxItem) error
	}{
		{"ack", func(ctx context.Context, q bot.Outbox, it bot.OutboxItem) error { return q.Ack(ctx, it) }},
		{"retry", func(ctx context.Context, q bot.Outbox, it bot.OutboxItem) error {
			return q.Retry(ctx, it, bot.DeliveryAttempts{Count: 1, Next: time.Now().Add(time.Hour)})
		}},
		{"fail", func(ctx context.Context, q bot.Outbox, it bot.OutboxItem) error {
			return q.Fail(ctx, it, bot.SubmissionFailure{Submission: it.Submission, Failure: "permanent"})
		}},
	}
	for _, takenOver := range []bool{false, true} {
		for _, st := range steps {
			t.Run(fmt.Sprintf("%s, taken over %v", st.name, takenOver), func(t *testing.T) {
				s, c := newStore(t)
				ctx := context.Background()
				submit(t, s, convsInShards(t, 1))
				a := s.Outbox("a", time.Minute, 0)
				items, err := a.Claim(ctx, 1)
				if err != nil || len(items) != 1 || items[0].Fence == "" {
					t.Fatalf("a's claim = %+v, %v; want one item with its fence", items, err)
				}
				it := items[0]
				c.Del(ctx, leaseKeyOf(t, s, it)) // a's lease runs out
				b := s.Outbox("b", 0, 0)         // idle 0: takes what nobody holds at once
				var taken []bot.OutboxItem
				if takenOver {
					if taken, err = b.Claim(ctx, 1); err != nil || len(taken) != 1 || taken[0].Entry != it.Entry {
						t.Fatalf("b's claim = %+v, %v; want %s", taken, err, it.Entry)
					}
				}
				err = st.run(ctx, a, it)
				if !errors.Is(err, ErrLeaseLost) || !errors.Is(err, bot.ErrClaimLost) {
					t.Fatalf("%s under a lost lease = %v, want ErrLeaseLost", st.name, err)
				}
				if n := outboxLen(t, s); n != 1 {
					t.Errorf("the outbox holds %d entries, want the entry kept", n)
				}
				if f, err := s.FailedSubmissions(ctx); err != nil || len(f) != 0 {
					t.Errorf("failed list = %+v, %v; want empty", f, err)
				}
				if got, err := s.Attempts(ctx, items); err != nil || got[0].Count != 0 {
					t.Errorf("retry schedule = %+v, %v; want none written", got, err)
				}
				if !takenOver {
					if taken, err = b.Claim(ctx, 1); err != nil || len(taken) != 1 || taken[0].Entry != it.Entry {
						t.Fatalf("b's claim after the refusal = %+v, %v; want %s", taken, err, it.Entry)
					}
				}
				if err := b.Ack(ctx, taken[0]); err != nil {
					t.Fatalf("the new holder's Ack: %v", err)
				}
				if n := outboxLen(t, s); n != 0 {
					t.Errorf("the outbox holds %d entries after the new holder's Ack, want 0", n)
				}
			})
		}
	}
}

// A consumer that stops renewing (killed) keeps its items for one lease period, not
// longer: before the lease runs out nobody else gets them, even claiming with idle 0;
// after it, another consumer takes them over.
func TestOutboxTakeoverAfterLeasePeriod(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	submit(t, s, convsInShards(t, 2))
	const period = time.Second
	dead := s.Outbox("dead", period, 0)
	items, err := dead.Claim(ctx, 10)
	if err != nil || len(items) != 2 {
		t.Fatalf("claimed %d, %v; want 2", len(items), err)
	}
	for _, it := range items {
		if ttl := c.PTTL(ctx, leaseKeyOf(t, s, it)).Val(); ttl <= 0 || ttl > period {
			t.Fatalf("lease of %s has %v left, want at most one lease period %v", it.Entry, ttl, period)
		}
	}
	other := s.Outbox("other", 0, 0)
	if got, err := other.Claim(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("another consumer claimed %v, %v while the leases hold", submissionIDs(got), err)
	}
	// The leases run out (the dead consumer renews nothing).
	for _, it := range items {
		for c.Exists(ctx, leaseKeyOf(t, s, it)).Val() == 1 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	taker := s.Outbox("taker", period, 0)
	got, err := taker.Claim(ctx, 10)
	if err != nil || fmt.Sprint(submissionIDs(got)) != fmt.Sprint(submissionIDs(items)) {
		t.Fatalf("after the lease period, claimed %v, %v; want %v", submissionIDs(got), err, submissionIDs(items))
	}
	for _, it := range got {
		if it.Deliveries != 2 {
			t.Errorf("%s: deliveries = %d, want 2", it.Entry, it.Deliveries)
		}
		if err := taker.Ack(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
}

// A consumer that renews keeps its items however long it works on them: many lease
// periods pass, others claim all along (with idle 0, which takes whatever nobody
// holds) and get nothing, and its Ack succeeds at the end.
func TestOutboxRenewingKeepsItems(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	submit(t, s, convsInShards(t, 3))
	const period = 300 * time.Millisecond
	live := s.Outbox("live", period, 0)
	items, err := live.Claim(ctx, 10)
	if err != nil || len(items) != 3 {
		t.Fatalf("claimed %d, %v; want 3", len(items), err)
	}
	other := s.Outbox("other", 0, 0)
	tick := time.NewTicker(period / 3)
	defer tick.Stop()
	for range 10 { // over three lease periods
		<-tick.C
		mine, err := live.Renew(ctx, items)
		if err != nil || fmt.Sprint(mine) != "[true true true]" {
			t.Fatalf("Renew = %v, %v; want all still held", mine, err)
		}
		if got, err := other.Claim(ctx, 10); err != nil || len(got) != 0 {
			t.Fatalf("another consumer claimed %v, %v from a live holder", submissionIDs(got), err)
		}
	}
	for _, it := range items {
		if err := live.Ack(ctx, it); err != nil {
			t.Fatalf("Ack after a long batch: %v", err)
		}
	}
	if n := outboxLen(t, s); n != 0 {
		t.Errorf("the outbox holds %d entries, want 0", n)
	}
}

// BenchmarkOutboxBatch claims a batch of 10 submissions from 10 shards through a
// worker's view, renews it once and acknowledges it. It reports Redis round trips per
// claim (what the worker waits for before its first delivery) and per renewal.
func BenchmarkOutboxBatch(b *testing.B) {
	c := redistest.Client(b)
	s := New(c, Options{Prefix: redistest.Prefix(b)})
	rt := &RoundTrips{}
	c.AddHook(rt)
	ctx := context.Background()
	convs := convsInShards(b, 10)
	q := s.Outbox("bench", time.Minute, 0)
	var claims, renewals int64
	n := 0
	batch := func() {
		for _, conv := range convs {
			n++
			id := fmt.Sprint("sub-", n)
			l, err := s.Begin(ctx, conv, "e"+id, 5*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Commit(ctx, l, bot.Change{Submission: &bot.Submission{ID: id, Conversation: conv}}); err != nil {
				b.Fatal(err)
			}
		}
		before := rt.Count()
		items, err := q.Claim(ctx, len(convs))
		if err != nil || len(items) != len(convs) {
			b.Fatalf("claimed %d, %v", len(items), err)
		}
		mid := rt.Count()
		if _, err := q.Renew(ctx, items); err != nil {
			b.Fatal(err)
		}
		claims += mid - before
		renewals += rt.Count() - mid
		for _, it := range items {
			if err := q.Ack(ctx, it); err != nil {
				b.Fatal(err)
			}
		}
	}
	batch() // loads the scripts
	claims, renewals = 0, 0
	for b.Loop() {
		batch()
	}
	b.ReportMetric(float64(claims)/float64(b.N), "roundtrips/claim")
	b.ReportMetric(float64(renewals)/float64(b.N), "roundtrips/renew")
}

// A store with an outbox of its own (`sangkien chat` beside `serve` on one Redis and
// prefix) claims only the submissions it committed, and the other store only its own.
func TestOutboxesOfTheirOwn(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	serve := New(c, Options{Prefix: prefix})
	chat := New(c, Options{Prefix: prefix, Outbox: "chat"})
	for _, x := range []struct {
		st      *Store
		conv    bot.ConversationRef
		id, ref string
	}{
		{serve, bot.ConversationRef{Channel: bot.Telegram, ID: "501"}, "from-telegram", "SK-2026-000001"},
		{chat, bot.ConversationRef{Channel: bot.Terminal, ID: "local"}, "from-chat", "SK-2026-000002"},
	} {
		sub := &bot.Submission{ID: x.id, Reference: x.ref, Conversation: x.conv}
		commit(t, x.st, x.conv, "e-"+x.id, bot.Change{Session: sampleSession(x.conv), Submission: sub})
	}
	ctx := context.Background()
	for st, want := range map[*Store]string{serve: "from-telegram", chat: "from-chat"} {
		q := st.Outbox("w-"+want, time.Second, 50*time.Millisecond)
		var got []string
		for range 3 {
			items, err := q.Claim(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				got = append(got, it.Submission.ID)
				if err := q.Ack(ctx, it); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("the %s worker claimed %v, want only %s", want, got, want)
		}
	}
}

// scriptCount is a redis.Hook that counts the calls of one script, alone or in
// pipelines.
type scriptCount struct {
	sha string
	n   atomic.Int64
}

func (h *scriptCount) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *scriptCount) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.count(cmd)
		return err
	}
}

func (h *scriptCount) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			h.count(c)
		}
		return err
	}
}

// count counts cmd once Redis ran it, if it is the script.
func (h *scriptCount) count(cmd redis.Cmder) {
	if a := cmd.Args(); len(a) > 1 && fmt.Sprint(a[0]) == "evalsha" && a[1] == h.sha && cmd.Err() == nil {
		h.n.Add(1)
	}
}

// countClaims counts the shard reads of Claims on c (claimShardScript, loaded first so
// that none runs as an EVAL after a NOSCRIPT).
func countClaims(t *testing.T, c redis.UniversalClient) *scriptCount {
	t.Helper()
	if err := claimShardScript.Load(context.Background(), c).Err(); err != nil {
		t.Fatal(err)
	}
	h := &scriptCount{sha: claimShardScript.Hash()}
	c.AddHook(h)
	return h
}

// A Claim waiting for work is woken by a submission its store commits and reads just
// that submission's shard: it does not wait for its next look at every shard
// (OutboxPoll, an hour here), nor read the 32 again. (Claims ask for two, so that a
// shard that gave one is not read again for more.)
func TestClaimWokenByCommit(t *testing.T) {
	c := redistest.Client(t)
	scripts := countClaims(t, c)
	s := New(c, Options{Prefix: redistest.Prefix(t), OutboxPoll: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan []bot.OutboxItem, 1)
	go func() {
		items, _ := s.Claim(ctx, "w", 2, time.Minute, time.Hour) // an error gives none
		got <- items
	}()
	waitUntil(t, "the first look at every shard", func() bool { return scripts.n.Load() == Shards })
	ids := submit(t, s, []bot.ConversationRef{{Channel: bot.Telegram, ID: "4242"}})
	select {
	case items := <-got:
		if len(items) != 1 || items[0].Submission.ID != ids[0] {
			t.Fatalf("Claim() = %v, want %s", submissionIDs(items), ids[0])
		}
	case <-time.After(time.Minute):
		t.Fatal("the waiting Claim was not woken by the commit")
	}
	if n := scripts.n.Load(); n != Shards+1 {
		t.Errorf("%d shard reads, want %d: every shard once, then the submission's", n, Shards+1)
	}
	// The worker's next Claim, as soon as it delivered, reads only what was signalled
	// since: a rush does not cost every shard again for each submission.
	more := submit(t, s, []bot.ConversationRef{{Channel: bot.Telegram, ID: "4343"}})
	if items := claim(t, s, "w", 2, time.Minute, time.Minute); len(items) != 1 || items[0].Submission.ID != more[0] {
		t.Fatalf("the next Claim() = %v, want %s", submissionIDs(items), more[0])
	}
	if n := scripts.n.Load(); n != Shards+2 {
		t.Errorf("%d shard reads, want %d: the next Claim reads the one signalled shard", n, Shards+2)
	}
}

// A shard whose read gave all a Claim asked for may hold more: the consumer's next
// Claim reads it again, without waiting for its next look at every shard.
func TestClaimReadsAgainAShardLeftFull(t *testing.T) {
	c := redistest.Client(t)
	scripts := countClaims(t, c)
	s := New(c, Options{Prefix: redistest.Prefix(t), OutboxPoll: time.Hour})
	if items := claim(t, s, "w", 1, time.Minute, 0); len(items) != 0 {
		t.Fatalf("an empty outbox gave %v", submissionIDs(items))
	}
	// Two conversations of one shard: the second submission is committed with the first.
	one := bot.ConversationRef{Channel: bot.Telegram, ID: "5000"}
	two := one
	for i := 5001; ShardOf(two) != ShardOf(one); i++ {
		two.ID = fmt.Sprint(i)
	}
	ids := submit(t, s, []bot.ConversationRef{one, two})
	var got []string
	for range 2 {
		got = append(got, submissionIDs(claim(t, s, "w", 1, time.Minute, 0))...)
	}
	if len(got) != 2 || got[0] != ids[0] || got[1] != ids[1] {
		t.Errorf("two Claims of one gave %v, want %v", got, ids)
	}
	if n := scripts.n.Load(); n != Shards+2 {
		t.Errorf("%d shard reads, want %d: every shard once, then the one shard twice", n, Shards+2)
	}
}
