package redistest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// countingStore counts the calls that reach it.
type countingStore struct{ begins, commits, releases int }

func (c *countingStore) Begin(context.Context, bot.ConversationRef, string, time.Duration) (*bot.Lease, error) {
	c.begins++
	return &bot.Lease{}, nil
}

func (c *countingStore) Commit(context.Context, *bot.Lease, bot.Change) error {
	c.commits++
	return nil
}

func (c *countingStore) Release(context.Context, *bot.Lease) error {
	c.releases++
	return nil
}

func TestFaultyStore(t *testing.T) {
	ctx := context.Background()
	inner := &countingStore{}
	s := NewFaultyStore(inner)
	l, err := s.Begin(ctx, bot.ConversationRef{}, "e", time.Second)
	if err != nil || s.Commit(ctx, l, bot.Change{}) != nil || s.Release(ctx, l) != nil {
		t.Fatalf("a store told nothing failed: %v", err)
	}
	s.FailCommits(2)
	for i := range 2 {
		if err := s.Commit(ctx, l, bot.Change{}); !errors.Is(err, ErrFault) {
			t.Fatalf("commit %d after FailCommits(2) = %v", i, err)
		}
	}
	if err := s.Commit(ctx, l, bot.Change{}); err != nil || s.Release(ctx, l) != nil {
		t.Fatalf("third commit = %v, want the wrapped store's", err)
	}
	s.Crash()
	if _, err := s.Begin(ctx, bot.ConversationRef{}, "e", time.Second); err != nil {
		t.Fatalf("Begin after a crash = %v, want the wrapped store's", err)
	}
	if !errors.Is(s.Commit(ctx, l, bot.Change{}), ErrFault) || !errors.Is(s.Release(ctx, l), ErrFault) {
		t.Fatal("a crashed store committed or released")
	}
	if inner.begins != 2 || inner.commits != 2 || inner.releases != 2 {
		t.Errorf("calls that reached the wrapped store: %+v, want 2 of each", *inner)
	}
}
