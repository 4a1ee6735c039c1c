//go:build cluster

// This file runs only in make test-cluster (go test -tags cluster, on the cluster that
// scripts/with-cluster.sh starts), alone: it moves a hash slot between masters, which
// other packages' tests running at the same time on the same cluster would feel.

package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
)

// TestSlotMigrationLosesNothing moves the hash slot of one shard from its master to
// another while the engine handles its conversations' events, a few keys at a time,
// each step after the engine tried another event: every event is handled once, in
// order, and every reply stays queued. A command that meets the move gets MOVED, ASK
// or TRYAGAIN (go-redis follows and retries them); an event that still fails is
// delivered again, as Telegram and Zalo do after an error, and the dedupe keeps it to
// once.
func TestSlotMigrationLosesNothing(t *testing.T) {
	w := newTown(t)
	cc, ok := w.c.(*redis.ClusterClient)
	if !ok {
		t.Fatal("REDIS_URL is not a cluster: run make test-cluster")
	}
	ctx := context.Background()

	const shard, citizens, minEvents = 7, 6, 12
	var convs []bot.ConversationRef
	for id := 1; len(convs) < citizens; id++ {
		conv := bot.ConversationRef{Channel: bot.Telegram, ID: strconv.Itoa(100000 + id)}
		if redisstore.ShardOf(conv) == shard {
			convs = append(convs, conv)
		}
	}
	slot, err := cc.ClusterKeySlot(ctx, fmt.Sprintf("{s%02d}", shard)).Result()
	if err != nil {
		t.Fatal(err)
	}
	from, to := slotNodes(t, cc, int(slot))
	t.Logf("moving slot %d (shard %d) from %s to %s", slot, shard, from.Options().Addr, to.Options().Addr)

	// Each citizen's first events land before the move starts, on the old master.
	for _, conv := range convs {
		w.send(conv, bot.Event{Kind: bot.EventCommand, Command: "start"})
	}

	var handled, redelivered atomic.Int64
	attempted := make(chan struct{}, 1)
	moved := make(chan struct{})
	sent := make([][]string, len(convs))
	var wg sync.WaitGroup
	for i, conv := range convs {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-moved:
					if n >= minEvents {
						return
					}
				default:
				}
				id := fmt.Sprintf("m%d-%d", i, n)
				ev := bot.Event{ID: id, Conversation: conv, Kind: bot.EventText, Text: fmt.Sprintf("tin nhắn %d", n)}
				for try := 1; ; try++ {
					_, err := w.engine.Handle(ctx, ev)
					select {
					case attempted <- struct{}{}:
					default:
					}
					if err == nil {
						break
					}
					if try == 1000 { // 20 s: longer than any lease a failed event leaves
						t.Errorf("%s event %s failed %d times: %v", conv.Key(), id, try, err)
						return
					}
					redelivered.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
				sent[i] = append(sent[i], id)
				handled.Add(1)
			}
		})
	}

	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	var once sync.Once
	finish := func() { once.Do(func() { close(moved) }); <-stopped }
	defer finish() // also when migrate gives up
	migrate(t, cc, int(slot), from, to, attempted, stopped)
	finish()
	if t.Failed() {
		return
	}
	t.Logf("%d events handled, %d delivered again after an error", handled.Load(), redelivered.Load())

	if n, err := from.ClusterCountKeysInSlot(ctx, int(slot)).Result(); err != nil || n != 0 {
		t.Errorf("the old master still holds %d keys of slot %d (%v)", n, slot, err)
	}
	if n, err := to.ClusterCountKeysInSlot(ctx, int(slot)).Result(); err != nil || n == 0 {
		t.Errorf("the new master holds %d keys of slot %d (%v), want the shard's keys", n, slot, err)
	}

	for i, conv := range convs {
		tr, err := w.st.Transcript(ctx, conv, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range tr {
			if e.Dir == bot.Inbound && strings.HasPrefix(e.EventID, "m") {
				got = append(got, e.EventID)
			}
		}
		if strings.Join(got, " ") != strings.Join(sent[i], " ") {
			t.Errorf("%s: transcript has events %v, want %v, each once, in order", conv.Key(), got, sent[i])
		}
		queued, err := w.st.TakeQueued(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		replies := map[string]int{}
		for _, o := range queued {
			ev, _, _ := strings.Cut(o.ID, "/")
			replies[ev]++
		}
		for _, id := range sent[i] {
			if replies[id] == 0 {
				t.Errorf("%s: no reply queued for event %s", conv.Key(), id)
			}
		}
		seen := map[string]bool{}
		for _, o := range queued {
			if seen[o.ID] {
				t.Errorf("%s: reply %s queued twice", conv.Key(), o.ID)
			}
			seen[o.ID] = true
		}
	}
}

// slotNodes returns the master that serves slot and another master, to move it to.
func slotNodes(t *testing.T, cc *redis.ClusterClient, slot int) (from, to *redis.Client) {
	t.Helper()
	ctx := context.Background()
	slots, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	var owner string
	for _, s := range slots {
		if s.Start <= slot && slot <= s.End {
			owner = s.Nodes[0].Addr
		}
	}
	var mu sync.Mutex
	err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		if n.Options().Addr == owner {
			from = n
		} else if to == nil {
			to = n
		}
		return nil
	})
	if err != nil || from == nil || to == nil {
		t.Fatalf("masters of the cluster: %v (slot %d on %q, want three masters)", err, slot, owner)
	}
	return from, to
}

// migrate moves slot from one master to the other as redis-cli --cluster reshard does
// (SETSLOT IMPORTING and MIGRATING, MIGRATE of its keys, SETSLOT NODE on every master),
// two keys at a time, each step after the engine tried one more event (a receive on
// attempted): while a conversation's keys are split between the two masters, its
// events fail with TRYAGAIN, so waiting for a handled event would never end. It gives
// up when the handlers stopped before the slot moved.
func migrate(t *testing.T, cc *redis.ClusterClient, slot int, from, to *redis.Client, attempted, stopped <-chan struct{}) {
	t.Helper()
	ctx := context.Background()
	fromID, err := from.Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	toID, err := to.Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(to.Options().Addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := to.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", fromID).Err(); err != nil {
		t.Fatalf("importing: %v", err)
	}
	if err := from.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", toID).Err(); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	steps := 0
	for {
		select {
		case <-attempted:
		case <-stopped:
			t.Fatalf("the handlers stopped after %d steps of the move", steps)
		}
		keys, err := from.ClusterGetKeysInSlot(ctx, slot, 2).Result()
		if err != nil {
			t.Fatalf("keys in slot: %v", err)
		}
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		if err := from.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("migrate %v: %v", keys, err)
		}
		steps++
	}
	// The new owner first, then the old one, then the rest: the order redis-cli uses.
	if err := to.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", toID).Err(); err != nil {
		t.Fatalf("setslot node on the new master: %v", err)
	}
	if err := from.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", toID).Err(); err != nil {
		t.Fatalf("setslot node on the old master: %v", err)
	}
	err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		return n.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", toID).Err()
	})
	if err != nil {
		t.Fatalf("setslot node: %v", err)
	}
	t.Logf("slot %d moved in %d steps", slot, steps)
}
