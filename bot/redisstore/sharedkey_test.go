package redisstore

import (
	"bytes"
	"context"
	"testing"
)

func TestSharedKeyIsMadeOnceAndShared(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	a, err := s.SharedKey(ctx, "media", 32)
	if err != nil || len(a) != 32 {
		t.Fatalf("first key = %x, %v", a, err)
	}
	// Another process on the same Redis gets the same key.
	b, err := New(c, Options{Prefix: s.prefix}).SharedKey(ctx, "media", 32)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("second process got %x, %v; want %x", b, err, a)
	}
	if other, _ := s.SharedKey(ctx, "other", 32); bytes.Equal(other, a) {
		t.Error("two names share a key")
	}
	c.Set(ctx, s.prefix+":key:broken", "not hex", 0)
	if _, err := s.SharedKey(ctx, "broken", 32); err == nil {
		t.Error("a damaged key was used")
	}
}
