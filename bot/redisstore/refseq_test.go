package redisstore

import (
	"context"
	"testing"
)

func TestSeedReferenceNeverLowers(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.SeedReference(ctx, "SK", 2026, 41); err != nil {
		t.Fatal(err)
	}
	if n, err := s.NextReference(ctx, "SK", 2026); err != nil || n != 42 {
		t.Fatalf("after seeding 41: next = %d, %v", n, err)
	}
	if err := s.SeedReference(ctx, "SK", 2026, 5); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.NextReference(ctx, "SK", 2026); n != 43 {
		t.Fatalf("a lower seed changed the counter: next = %d", n)
	}
}
