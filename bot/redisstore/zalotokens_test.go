package redisstore

import (
	"context"
	"testing"
	"time"
)

func TestZaloTokens(t *testing.T) {
	s, c := newStore(t)
	z := s.ZaloTokens()
	ctx := context.Background()
	const app = "1234567890123456789"

	if b, err := z.Get(ctx, app); b != nil || err != nil {
		t.Fatalf("Get on an empty store = %q, %v", b, err)
	}
	if ok, err := z.Seed(ctx, app, []byte(`{"access_token":"env"}`)); !ok || err != nil {
		t.Fatalf("Seed = %t, %v", ok, err)
	}
	if ok, err := z.Seed(ctx, app, []byte(`{"access_token":"other"}`)); ok || err != nil {
		t.Errorf("second Seed = %t, %v: a stored pair must win", ok, err)
	}
	if err := z.Set(ctx, app, []byte(`{"access_token":"new"}`)); err != nil {
		t.Fatal(err)
	}
	if b, err := z.Get(ctx, app); string(b) != `{"access_token":"new"}` || err != nil {
		t.Errorf("Get = %q, %v", b, err)
	}
	key := s.prefix + ":zalo:token:" + app
	if ttl := c.TTL(ctx, key).Val(); ttl != -1 {
		t.Errorf("pair key %s has TTL %s: it holds the only refresh token and must not expire", key, ttl)
	}
	if b, _ := z.Get(ctx, "another-app"); b != nil {
		t.Errorf("another app sees %q", b)
	}
}

func TestZaloTokenLock(t *testing.T) {
	s, c := newStore(t)
	z := s.ZaloTokens()
	ctx := context.Background()
	const app = "42"

	first, err := z.Lock(ctx, app, time.Minute)
	if err != nil || first == "" {
		t.Fatalf("Lock = %q, %v", first, err)
	}
	if second, err := z.Lock(ctx, app, time.Minute); second != "" || err != nil {
		t.Errorf("Lock while held = %q, %v", second, err)
	}
	key := s.prefix + ":zalo:lock:" + app
	if ttl := c.TTL(ctx, key).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("lock TTL %s", ttl)
	}
	// Another owner cannot release it.
	if err := z.Unlock(ctx, app, "not-the-owner"); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, key).Val(); n != 1 {
		t.Error("lock released by a stranger")
	}
	if err := z.Unlock(ctx, app, first); err != nil {
		t.Fatal(err)
	}
	again, err := z.Lock(ctx, app, time.Minute)
	if err != nil || again == "" || again == first {
		t.Errorf("Lock after release = %q, %v", again, err)
	}
	// A lapsed lock's owner does not release the lock taken since.
	c.Del(ctx, key)
	third, _ := z.Lock(ctx, app, time.Minute)
	if err := z.Unlock(ctx, app, again); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(ctx, key).Val(); got != third {
		t.Errorf("lock holds %q, want the third owner's %q", got, third)
	}
}
