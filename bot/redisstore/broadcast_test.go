package redisstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// A page of recipients is queued once however often it is given (a process killed
// after queueing, before knowing it did), never by a holder whose lease ran out; the
// shard's cursor and counts follow, and the sender counts each message sent or
// failed.
func TestQueueBroadcastOnce(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	b := bot.Broadcast{ID: "b1", Audience: bot.AudienceQuery{Kind: bot.AudienceSubscribed}, Text: bot.Text{VI: "Sắp hết hạn nộp sáng kiến", EN: "Deadline soon"},
		At: at, Created: at, State: bot.BroadcastScheduled}
	if err := s.SaveBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveBroadcast(ctx, b); !errors.Is(err, ErrBroadcastExists) {
		t.Errorf("saved twice: %v", err)
	}
	// Two Telegram citizens of one shard.
	var convs []bot.ConversationRef
	for i := 0; len(convs) < 2; i++ {
		conv := bot.ConversationRef{Channel: bot.Telegram, ID: string(rune('a' + i))}
		if ShardOf(conv) == 5 {
			convs = append(convs, conv)
		}
	}
	sh, ok, err := s.ClaimBroadcastShard(ctx, "b1", 5, "p1", time.Minute)
	if err != nil || !ok || sh.Cursor != "" || sh.Done {
		t.Fatalf("claim: %+v %v %v", sh, ok, err)
	}
	if _, ok, _ := s.ClaimBroadcastShard(ctx, "b1", 5, "p2", time.Minute); ok {
		t.Error("two holders of one shard")
	}
	msgs := []bot.Outbound{b.Message(bot.AudienceMember{Conversation: convs[0], Lang: "vi"}), b.Message(bot.AudienceMember{Conversation: convs[1], Lang: "en"})}
	if n, err := s.QueueBroadcast(ctx, &sh, msgs, "page-2"); err != nil || n != 2 || sh.Cursor != "page-2" {
		t.Fatalf("first page: %d %v %+v", n, err, sh)
	}
	if n, err := s.QueueBroadcast(ctx, &sh, msgs, ""); err != nil || n != 0 || !sh.Done {
		t.Fatalf("the same page again: %d %v", n, err)
	}
	if n := c.XLen(ctx, s.BulkStream(5, bot.Telegram)).Val(); n != 2 {
		t.Errorf("%d messages in the bulk lane, want 2", n)
	}
	stale := sh
	stale.Token = "someone-else"
	if _, err := s.QueueBroadcast(ctx, &stale, msgs, ""); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("a stale holder queued: %v", err)
	}
	// The sender: one delivered, one to a citizen who blocked the bot since.
	q := s.Bulk()
	if ok, err := q.own(ctx, bot.Telegram, 5, "p", time.Minute); err != nil || !ok {
		t.Fatal(ok, err)
	}
	got, err := q.read(ctx, bot.Telegram, 5, "p", 10)
	if err != nil || len(got) != 2 || got[1].Outbound.Reply.Text != "Deadline soon" {
		t.Fatalf("read: %+v %v", got, err)
	}
	if err := q.done(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if err := q.fail(ctx, got[1], bot.DeliveryFailure{Outbound: got[1].Outbound, Failure: "skipped", Skip: bot.SkipStopped, At: at}); err != nil {
		t.Fatal(err)
	}
	p, err := s.BroadcastProgress(ctx, "b1")
	if err != nil || p.Queued != 2 || p.Sent != 1 || p.Skipped[bot.SkipStopped] != 1 || len(p.Skipped) != 1 || p.Failed != 0 ||
		p.ShardsDone != 1 || p.Shards != Shards || p.Done() != 2 {
		t.Errorf("progress: %+v %v", p, err)
	}
	// A skip is counted, not kept as a failure to look into.
	if fs, err := q.Failures(ctx, bot.Telegram, 10); err != nil || len(fs) != 0 {
		t.Errorf("failure records after a skip: %+v %v", fs, err)
	}
	if ok, err := s.SetBroadcastState(ctx, "b1", bot.BroadcastCancelled, bot.BroadcastScheduled, bot.BroadcastSending); err != nil || !ok {
		t.Errorf("cancel: %v %v", ok, err)
	}
	if ok, _ := s.SetBroadcastState(ctx, "b1", bot.BroadcastSending, bot.BroadcastScheduled); ok {
		t.Error("a cancelled broadcast started")
	}
	if bs, err := s.Broadcasts(ctx, 10); err != nil || len(bs) != 1 || bs[0].State != bot.BroadcastCancelled || bs[0].Text.VI != b.Text.VI {
		t.Errorf("list: %+v %v", bs, err)
	}
	if _, err := s.Broadcast(ctx, "nope"); !errors.Is(err, bot.ErrUnknownBroadcast) {
		t.Errorf("unknown: %v", err)
	}
}

// Cancelling takes the broadcast's messages no sender has read out of the bulk lanes
// and counts them; the one a sender has goes, and another broadcast's stay.
func TestDropBroadcast(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	mk := func(id string) bot.Broadcast {
		b := bot.Broadcast{ID: id, Audience: bot.AudienceQuery{Kind: bot.AudienceSubscribed}, Text: bot.Text{VI: "Tin " + id},
			At: at, Created: at, State: bot.BroadcastSending}
		if err := s.SaveBroadcast(ctx, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	gone, kept := mk("gone"), mk("kept")
	var convs []bot.ConversationRef
	for i := 0; len(convs) < 3; i++ {
		if conv := (bot.ConversationRef{Channel: bot.Zalo, ID: fmt.Sprint("u", i)}); ShardOf(conv) == 9 {
			convs = append(convs, conv)
		}
	}
	for _, b := range []bot.Broadcast{gone, kept} {
		sh, ok, err := s.ClaimBroadcastShard(ctx, b.ID, 9, "p", time.Minute)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		var msgs []bot.Outbound
		for _, conv := range convs {
			msgs = append(msgs, b.Message(bot.AudienceMember{Conversation: conv, Lang: "vi"}))
		}
		if _, err := s.QueueBroadcast(ctx, &sh, msgs, ""); err != nil {
			t.Fatal(err)
		}
	}
	q := s.Bulk()
	if ok, err := q.own(ctx, bot.Zalo, 9, "p", time.Minute); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if got, err := q.read(ctx, bot.Zalo, 9, "p", 1); err != nil || len(got) != 1 || got[0].Outbound.Broadcast != "gone" {
		t.Fatalf("a sender reads: %+v %v", got, err)
	}
	n, err := s.DropBroadcast(ctx, "gone")
	if err != nil || n != 2 {
		t.Fatalf("dropped %d, %v; want the 2 not read", n, err)
	}
	if left := c.XLen(ctx, s.BulkStream(9, bot.Zalo)).Val(); left != 4 {
		t.Errorf("%d messages left in the lane, want the one being sent and the other broadcast's 3", left)
	}
	if p, _ := s.BroadcastProgress(ctx, "gone"); p.Cancelled != 2 || p.Queued != 3 {
		t.Errorf("progress: %+v", p)
	}
	if p, _ := s.BroadcastProgress(ctx, "kept"); p.Cancelled != 0 {
		t.Errorf("the other broadcast: %+v", p)
	}
}
