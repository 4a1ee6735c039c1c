package redisstore

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

func TestIndex(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Zalo, ID: "8841"}
	sub := bot.Submission{ID: "abc", Reference: "SK-2026-000123", Proposal: bot.Proposal{Kind: bot.KindInitiative, Title: "kept out"}, Conversation: conv}
	if err := s.Index(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if err := s.Index(ctx, sub); err != nil {
		t.Fatalf("indexing again: %v", err)
	}
	want := IndexedSubmission{ID: "abc", Reference: "SK-2026-000123", Kind: bot.KindInitiative, Conversation: conv}
	byID, err := s.LookupSubmission(ctx, "abc")
	if err != nil || byID != want {
		t.Errorf("LookupSubmission = %+v, %v; want %+v", byID, err, want)
	}
	byRef, err := s.LookupReference(ctx, "SK-2026-000123")
	if err != nil || byRef != want {
		t.Errorf("LookupReference = %+v, %v; want %+v", byRef, err, want)
	}
	if _, err := s.LookupSubmission(ctx, "nope"); !errors.Is(err, ErrUnknownSubmission) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := s.LookupReference(ctx, "SK-2026-999999"); !errors.Is(err, ErrUnknownSubmission) {
		t.Errorf("unknown reference: %v", err)
	}
	if err := s.Index(ctx, bot.Submission{}); err == nil {
		t.Error("a submission without id was indexed")
	}
}

// A postponed item is not handed out before its time, is handed out after it, and its
// schedule is read back; Ack forgets the schedule.
func TestPostpone(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	submit(t, s, convsInShards(t, 1))
	const idle = time.Minute
	items := claim(t, s, "w", 10, idle, time.Millisecond)
	if len(items) != 1 {
		t.Fatalf("claimed %d items, want 1", len(items))
	}
	it := items[0]
	if a, err := s.Attempts(ctx, items); err != nil || a[0].Count != 0 {
		t.Fatalf("attempts of a new item = %+v, %v", a, err)
	}
	next := time.Now().Add(300 * time.Millisecond)
	a := bot.DeliveryAttempts{Count: 2, Next: next, LastError: "retryable", Code: 503, At: time.Now()}
	if err := s.Postpone(ctx, "w", it, a, idle); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, "other", 10, idle, time.Millisecond); len(got) != 0 && time.Now().Before(next) {
		t.Fatalf("claimed %d items before their time", len(got))
	}
	var again []bot.OutboxItem
	for len(again) == 0 {
		again = claim(t, s, "other", 10, idle, 100*time.Millisecond)
	}
	if time.Now().Before(next) {
		t.Errorf("handed out %s before its time", time.Until(next))
	}
	got, err := s.Attempts(ctx, again)
	if err != nil || got[0].Count != 2 || got[0].Code != 503 || !got[0].Next.Equal(next.Round(0)) {
		t.Errorf("attempts read back = %+v, %v; want %+v", got, err, a)
	}
	if err := s.Ack(ctx, again[0]); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Attempts(ctx, again); got[0].Count != 0 {
		t.Errorf("schedule kept after Ack: %+v", got[0])
	}
}

func TestFailedListAndRetry(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	ids := submit(t, s, convsInShards(t, 3))
	items := claim(t, s, "w", 10, time.Minute, time.Millisecond)
	if len(items) != 3 {
		t.Fatalf("claimed %d, want 3", len(items))
	}
	if err := s.Postpone(ctx, "w", items[0], bot.DeliveryAttempts{Count: 1, Next: time.Now()}, time.Minute); err != nil {
		t.Fatal(err)
	}
	// Postpone gave the claim back: claim it again (it is due) to fail it under a claim.
	due := claim(t, s, "w", 1, time.Minute, 5*time.Second)
	if len(due) != 1 || due[0].Entry != items[0].Entry {
		t.Fatalf("claimed %+v again, want %s", due, items[0].Entry)
	}
	items[0] = due[0]
	for i, it := range items[:2] {
		f := bot.SubmissionFailure{Submission: it.Submission, Failure: "permanent", Code: 400 + i, Body: "no", Attempts: 2, At: time.Now()}
		if err := s.Fail(ctx, it, f); err != nil {
			t.Fatal(err)
		}
	}
	failed, err := s.FailedSubmissions(ctx)
	if err != nil || len(failed) != 2 {
		t.Fatalf("failed list = %d, %v; want 2", len(failed), err)
	}
	pending, err := s.PendingSubmissions(ctx)
	if err != nil || len(pending) != 1 || pending[0].Submission.ID != items[2].Submission.ID {
		t.Fatalf("pending = %+v, %v; want only %s", pending, err, items[2].Submission.ID)
	}
	if got, _ := s.Attempts(ctx, items[:1]); got[0].Count != 0 {
		t.Errorf("a failed submission kept its retry schedule: %+v", got[0])
	}

	// Two operators retry the same submission at once: it is queued once.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = s.RetryFailed(ctx, items[0].Submission.ID) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Errorf("concurrent retries: %v and %v, want exactly one success", errs[0], errs[1])
	}
	moved, err := s.RetryAllFailed(ctx)
	if err != nil || !slices.Equal(moved, []string{items[1].Submission.ID}) {
		t.Errorf("RetryAllFailed = %v, %v; want [%s]", moved, err, items[1].Submission.ID)
	}
	if err := s.RetryFailed(ctx, "nope"); !errors.Is(err, ErrUnknownSubmission) {
		t.Errorf("retry of an unknown id: %v", err)
	}
	again := claim(t, s, "w2", 10, time.Minute, time.Millisecond)
	if got := submissionIDs(again); !slices.Equal(got, submissionIDs(items[:2])) {
		t.Errorf("claimed %v after retry, want the two failed ones", got)
	}
	if got := submissionIDs(items); !slices.Equal(got, ids) {
		t.Errorf("submitted %v, claimed %v", ids, got)
	}
	if failed, _ := s.FailedSubmissions(ctx); len(failed) != 0 {
		t.Errorf("%d left on the failed list", len(failed))
	}
	if p, _ := s.PendingSubmissions(ctx); len(p) != 3 {
		t.Errorf("%d pending, want 3", len(p))
	}
}
