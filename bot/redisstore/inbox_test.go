package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"
)

// waitLeaseGone waits until the lease of body id ran out. The bound guards against a
// hung test; nothing is asserted about how long it took.
func waitLeaseGone(t *testing.T, in *Inbox, id string) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n, err := in.c.Exists(ctx, in.leaseKey(id)).Result(); err == nil && n == 0 {
			return
		}
	}
	t.Fatalf("lease of %s never ran out", id)
}

func TestInboxPutDone(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	in := s.Inbox("zalo", 0)
	done, err := in.Put(ctx, "h1", []byte(`{"event_name":"user_send_text"}`))
	if err != nil || done == nil {
		t.Fatalf("Put = %v, %v", done != nil, err)
	}
	if n, _ := in.Len(ctx); n != 1 {
		t.Fatalf("Len after Put = %d, want 1", n)
	}
	// A redelivery of the same body while it runs: stored once, run by its holder only.
	again, err := in.Put(ctx, "h1", []byte(`{"event_name":"user_send_text"}`))
	if err != nil || again != nil {
		t.Errorf("second Put while held = %v, %v: want no claim", again != nil, err)
	}
	if n, _ := in.Len(ctx); n != 1 {
		t.Errorf("Len after a repeated Put = %d, want 1", n)
	}
	// Another process finds nothing to take over while the body is held.
	other := s.Inbox("zalo", 0)
	ran, err := other.Takeover(ctx, 10, func(context.Context, string, []byte) error {
		t.Error("a held body was run by another process")
		return nil
	})
	if ran != 0 || err != nil {
		t.Errorf("Takeover of held bodies = %d, %v", ran, err)
	}
	if err := done(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := in.Len(ctx); n != 0 {
		t.Errorf("Len after done = %d, want 0", n)
	}
	if n, _ := in.c.Exists(ctx, in.leaseKey("h1")).Result(); n != 0 {
		t.Error("done left the lease behind")
	}
}

func TestInboxTakeoverAfterCrash(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	const period = 100 * time.Millisecond
	crashed := s.Inbox("zalo", period)
	body := []byte(`{"event_name":"user_send_text","message":{"msg_id":"m1"}}`)
	lateDone, err := crashed.Put(ctx, "h2", body)
	if err != nil || lateDone == nil {
		t.Fatalf("Put = %v, %v", lateDone != nil, err)
	}
	// The process dies here: it never runs the body nor removes it.
	waitLeaseGone(t, crashed, "h2")

	survivor := s.Inbox("zalo", period)
	var got []string
	ran, err := survivor.Takeover(ctx, 10, func(_ context.Context, id string, b []byte) error {
		got = append(got, id+" "+string(b))
		return nil
	})
	if err != nil || ran != 1 {
		t.Fatalf("Takeover = %d, %v, want 1 body run", ran, err)
	}
	if len(got) != 1 || got[0] != "h2 "+string(body) {
		t.Errorf("run got %q", got)
	}
	if n, _ := survivor.Len(ctx); n != 0 {
		t.Errorf("Len after the takeover's run = %d, want 0", n)
	}
	// The dead process's acknowledgement, had it come back, no longer counts.
	if err := lateDone(ctx); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("done under a lost lease = %v, want ErrLeaseLost", err)
	}
}

func TestInboxFailedRunStays(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	const period = 100 * time.Millisecond
	in := s.Inbox("zalo", period)
	if _, err := in.Put(ctx, "h3", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitLeaseGone(t, in, "h3")
	ran, err := in.Takeover(ctx, 10, func(context.Context, string, []byte) error { return errors.New("redis down") })
	if ran != 1 || err != nil {
		t.Fatalf("Takeover = %d, %v", ran, err)
	}
	if n, _ := in.Len(ctx); n != 1 {
		t.Fatalf("a failed run removed the body: Len = %d", n)
	}
	waitLeaseGone(t, in, "h3")
	ran, err = in.Takeover(ctx, 10, func(context.Context, string, []byte) error { return nil })
	if ran != 1 || err != nil {
		t.Fatalf("second Takeover = %d, %v", ran, err)
	}
	if n, _ := in.Len(ctx); n != 0 {
		t.Errorf("Len = %d after a successful run", n)
	}
}

func TestInboxDown(t *testing.T) {
	s, c := newStore(t)
	in := s.Inbox("zalo", 0)
	_ = c.Close()
	if done, err := in.Put(context.Background(), "h4", []byte(`{}`)); err == nil || done != nil {
		t.Errorf("Put on a closed client = %v, %v: want an error", done != nil, err)
	}
}
