package redisstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

func TestLeaseLife(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	key := s.prefix + ":lease:test"
	a, ok, err := claimLease(ctx, c, key, "a", time.Minute)
	if err != nil || !ok || !strings.HasPrefix(a.Token, "a/") {
		t.Fatalf("claim by a = %+v, %v, %v", a, ok, err)
	}
	if _, ok, _ := claimLease(ctx, c, key, "b", time.Minute); ok {
		t.Fatal("b claimed a lease a holds")
	}
	if ttl := c.PTTL(ctx, key).Val(); ttl > MaxLeasePeriod {
		t.Fatalf("lease period %v, want at most %v", ttl, MaxLeasePeriod)
	}
	if ok, err := renewLease(ctx, c, a, time.Second); err != nil || !ok {
		t.Fatalf("renew by a = %v, %v", ok, err)
	}
	if err := releaseLease(ctx, c, Lease{Key: key, Token: "b/x"}); err != nil {
		t.Fatal(err)
	}
	if c.Exists(ctx, key).Val() != 1 {
		t.Fatal("a release by another holder freed the lease")
	}
	if err := releaseLease(ctx, c, a); err != nil {
		t.Fatal(err)
	}
	b, ok, err := claimLease(ctx, c, key, "b", 50*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("b could not claim a released lease: %v, %v", ok, err)
	}
	if ok, _ := renewLease(ctx, c, a, time.Minute); ok {
		t.Fatal("a renewed a lease it gave back")
	}
	time.Sleep(100 * time.Millisecond)
	// b's lease ran out: renewing does not take it again, a fresh claim does.
	if ok, _ := renewLease(ctx, c, b, time.Minute); ok {
		t.Fatal("b renewed a lease that ran out")
	}
	if _, ok, _ := claimLease(ctx, c, key, "a", time.Minute); !ok {
		t.Fatal("a could not take over a lease that ran out")
	}
}

// A consumer whose shard lease ran out, and was taken over, cannot finish an entry it
// read under it: the new owner sends it.
func TestDeliveryAcksAreFenced(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "777"}
	sh := ShardOf(conv)
	commit(t, s, conv, "e", bot.Change{Session: sampleSession(conv), Replies: []bot.Outbound{{ID: "e/0", Conversation: conv, Reply: bot.Reply{Text: "a"}}}})
	p, q := s.Delivery(), s.Delivery()
	if ok, err := p.own(ctx, bot.Telegram, sh, "p", time.Minute); err != nil || !ok {
		t.Fatalf("Own = %v, %v", ok, err)
	}
	got, err := p.read(ctx, bot.Telegram, sh, "p", 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	if got[0].QueuedAt.IsZero() || time.Since(got[0].QueuedAt) > time.Minute {
		t.Errorf("QueuedAt = %v", got[0].QueuedAt)
	}
	// p's lease ends (a long pause), q takes the shard over.
	c.Del(ctx, p.leaseKey(bot.Telegram, sh))
	if ok, err := q.own(ctx, bot.Telegram, sh, "q", time.Minute); err != nil || !ok {
		t.Fatalf("takeover = %v, %v", ok, err)
	}
	if err := p.done(ctx, got[0]); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Done by the old owner: %v, want ErrLeaseLost", err)
	}
	if err := p.fail(ctx, got[0], bot.DeliveryFailure{Failure: "permanent"}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Fail by the old owner: %v, want ErrLeaseLost", err)
	}
	if ok, _ := p.own(ctx, bot.Telegram, sh, "p", time.Minute); ok {
		t.Fatal("the old owner renewed a shard taken over")
	}
	mine, err := q.read(ctx, bot.Telegram, sh, "q", 10)
	if err != nil || len(mine) != 1 || mine[0].Outbound.ID != "e/0" {
		t.Fatalf("the new owner read %+v, %v; want the unfinished entry", mine, err)
	}
	if err := q.done(ctx, mine[0]); err != nil {
		t.Fatal(err)
	}
}

func TestLeaveCountsAConsumerGoneAtOnce(t *testing.T) {
	s, _ := newStore(t)
	q, ctx := s.Delivery(), context.Background()
	for _, c := range []string{"a", "b"} {
		if _, err := q.heartbeat(ctx, bot.Telegram, c, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.leave(ctx, bot.Telegram, "b"); err != nil {
		t.Fatal(err)
	}
	if n, _ := q.heartbeat(ctx, bot.Telegram, "a", time.Minute); n != 1 {
		t.Fatalf("%d alive after b left, want 1", n)
	}
}

// A lead is held by one process at a time, renewed by it alone, and free at once
// when it is given back.
func TestLeadHandsOver(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	a, ok, err := s.ClaimLead(ctx, "reminders", "p1", time.Minute)
	if err != nil || !ok || a.Key != s.prefix+":lease:lead:reminders" {
		t.Fatalf("claim by p1 = %+v, %v, %v", a, ok, err)
	}
	if _, ok, _ := s.ClaimLead(ctx, "reminders", "p2", time.Minute); ok {
		t.Fatal("p2 claimed the lead p1 holds")
	}
	if _, ok, _ := s.ClaimLead(ctx, "other", "p2", time.Minute); !ok {
		t.Fatal("a lead on another duty was refused")
	}
	if ok, err := s.RenewLead(ctx, a, time.Minute); err != nil || !ok {
		t.Fatalf("renew by p1 = %v, %v", ok, err)
	}
	if ttl := c.PTTL(ctx, a.Key).Val(); ttl > MaxLeasePeriod {
		t.Fatalf("lead period %v, want at most %v", ttl, MaxLeasePeriod)
	}
	if err := s.ReleaseLead(ctx, a); err != nil {
		t.Fatal(err)
	}
	b, ok, err := s.ClaimLead(ctx, "reminders", "p2", time.Minute)
	if err != nil || !ok {
		t.Fatalf("p2 could not claim a lead given back: %v, %v", ok, err)
	}
	if ok, _ := s.RenewLead(ctx, a, time.Minute); ok {
		t.Fatal("p1 renewed a lead it gave back")
	}
	if ok, _ := s.RenewLead(ctx, b, time.Minute); !ok {
		t.Fatal("p2 could not renew its lead")
	}
}
