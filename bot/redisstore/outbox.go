package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// IntakeGroup is the consumer group that reads the outbox.
const IntakeGroup = "intake"

// pollInterval is how often an empty Claim looks again while it waits. Polling one
// pipeline over the 32 shards costs one round trip; blocking reads would need one
// connection per shard.
const pollInterval = 75 * time.Millisecond

// claimState is the Store's memory of outbox consumers.
type claimState struct {
	mu     sync.Mutex
	groups bool // the intake group exists on every shard's outbox
	// spare holds items a consumer read but Claim did not hand out yet (a read takes up
	// to n from each of the 32 shards). They are in the consumer's pending list, so if
	// the process dies another consumer reclaims them after idle.
	spare map[string][]spareItem
}

type spareItem struct {
	item bot.OutboxItem
	read time.Time
}

// Claim returns up to n submissions for consumer: first those another consumer left
// unacknowledged for longer than idle, then new ones. With none, it looks again every
// pollInterval until block has passed, then returns no items and no error. See bot.Outbox.
//
// Deliveries is 1 for an item read for the first time, and the stream's delivery count
// for a reclaimed one (one extra round trip, only when something was reclaimed).
func (s *Store) Claim(ctx context.Context, consumer string, n int, idle, block time.Duration) ([]bot.OutboxItem, error) {
	if consumer == "" || n <= 0 {
		return nil, errors.New("redisstore: claim: consumer and n > 0 are required")
	}
	deadline := time.Now().Add(block)
	for {
		if items := s.takeSpare(consumer, n, idle); len(items) > 0 {
			return items, nil
		}
		items, err := s.claimOnce(ctx, consumer, n, idle)
		if err != nil || len(items) > 0 {
			return items, err
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, nil
		}
		t := time.NewTimer(min(wait, pollInterval))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("redisstore: claim: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// Ack removes a delivered item from the outbox: XACK and XDEL, and the item's retry
// schedule, in one transaction (the keys share the shard's hash tag).
func (s *Store) Ack(ctx context.Context, item bot.OutboxItem) error {
	shard, id, err := parseEntry(item.Entry)
	if err != nil {
		return fmt.Errorf("redisstore: ack: %w", err)
	}
	stream := s.outboxStream(shard)
	_, err = s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, stream, IntakeGroup, id)
		p.XDel(ctx, stream, id)
		if item.Submission.ID != "" {
			p.HDel(ctx, s.retryKey(shard), item.Submission.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: ack: %w", err)
	}
	return nil
}

// claimOnce reads every shard once: XAUTOCLAIM and XREADGROUP of each shard in one
// pipeline (a cluster client splits it by node). Items beyond n are kept as spare.
func (s *Store) claimOnce(ctx context.Context, consumer string, n int, idle time.Duration) ([]bot.OutboxItem, error) {
	items, err := s.readShards(ctx, consumer, n, idle)
	if isNoGroup(err) {
		// The streams were removed behind our back (FLUSHDB, a new server): create the
		// groups again and retry once.
		s.claims.mu.Lock()
		s.claims.groups = false
		s.claims.mu.Unlock()
		items, err = s.readShards(ctx, consumer, n, idle)
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: claim: %w", err)
	}
	if len(items) > n {
		s.keepSpare(consumer, items[n:])
		items = items[:n]
	}
	return items, nil
}

func (s *Store) readShards(ctx context.Context, consumer string, n int, idle time.Duration) ([]bot.OutboxItem, error) {
	if err := s.ensureGroups(ctx); err != nil {
		return nil, err
	}
	pipe := s.c.Pipeline()
	auto := make([]*redis.XAutoClaimCmd, Shards)
	fresh := make([]*redis.XStreamSliceCmd, Shards)
	for sh := range Shards {
		stream := s.outboxStream(sh)
		auto[sh] = pipe.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: stream, Group: IntakeGroup, Consumer: consumer,
			MinIdle: idle, Start: "0-0", Count: int64(n),
		})
		fresh[sh] = pipe.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: IntakeGroup, Consumer: consumer,
			Streams: []string{stream, ">"}, Count: int64(n), Block: -1, // -1: do not block
		})
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	var reclaimed, items []bot.OutboxItem
	for sh := range Shards {
		msgs, _, err := auto[sh].Result()
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if it, ok := s.item(sh, m, 0); ok {
				reclaimed = append(reclaimed, it)
			}
		}
		streams, err := fresh[sh].Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		for _, st := range streams {
			for _, m := range st.Messages {
				if it, ok := s.item(sh, m, 1); ok {
					items = append(items, it)
				}
			}
		}
	}
	if err := s.countDeliveries(ctx, reclaimed); err != nil {
		return nil, err
	}
	return append(reclaimed, items...), nil
}

// countDeliveries fills Deliveries of reclaimed items from the pending lists.
func (s *Store) countDeliveries(ctx context.Context, items []bot.OutboxItem) error {
	if len(items) == 0 {
		return nil
	}
	pipe := s.c.Pipeline()
	cmds := make([]*redis.XPendingExtCmd, len(items))
	for i, it := range items {
		shard, id, _ := parseEntry(it.Entry) // built by s.item: always well formed
		cmds[i] = pipe.XPendingExt(ctx, &redis.XPendingExtArgs{
			Stream: s.outboxStream(shard), Group: IntakeGroup, Start: id, End: id, Count: 1,
		})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	for i, c := range cmds {
		items[i].Deliveries = 1
		if p := c.Val(); len(p) == 1 {
			items[i].Deliveries = p[0].RetryCount
		}
	}
	return nil
}

// item decodes one outbox entry. An entry that cannot be read is logged by id and left
// pending: it cannot be delivered, but it must not stop the others.
func (s *Store) item(shard int, m redis.XMessage, deliveries int64) (bot.OutboxItem, bool) {
	it := bot.OutboxItem{Entry: strconv.Itoa(shard) + "/" + m.ID, Deliveries: deliveries}
	raw, _ := m.Values["s"].(string)
	if err := json.Unmarshal([]byte(raw), &it.Submission); err != nil {
		s.log.Error("outbox entry unreadable", "entry", it.Entry, "err", err)
		return it, false
	}
	return it, true
}

// ensureGroups creates the intake group on every shard's outbox once per Store. Starting
// at id 0 delivers entries written before the group existed.
func (s *Store) ensureGroups(ctx context.Context) error {
	s.claims.mu.Lock()
	done := s.claims.groups
	s.claims.mu.Unlock()
	if done {
		return nil
	}
	pipe := s.c.Pipeline()
	cmds := make([]*redis.StatusCmd, Shards)
	for sh := range Shards {
		cmds[sh] = pipe.XGroupCreateMkStream(ctx, s.outboxStream(sh), IntakeGroup, "0")
	}
	_, _ = pipe.Exec(ctx) // errors are checked one by one: BUSYGROUP is fine
	for _, c := range cmds {
		if err := c.Err(); err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			return fmt.Errorf("create group: %w", err)
		}
	}
	s.claims.mu.Lock()
	s.claims.groups = true
	s.claims.mu.Unlock()
	return nil
}

// takeSpare hands out up to n of the consumer's spare items. Items older than idle are
// dropped: other consumers may have reclaimed them already, and XAUTOCLAIM finds them
// again for this one.
func (s *Store) takeSpare(consumer string, n int, idle time.Duration) []bot.OutboxItem {
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	var out []bot.OutboxItem
	var keep []spareItem
	for _, sp := range s.claims.spare[consumer] {
		switch {
		case time.Since(sp.read) >= idle:
		case len(out) < n:
			out = append(out, sp.item)
		default:
			keep = append(keep, sp)
		}
	}
	if len(keep) == 0 {
		delete(s.claims.spare, consumer)
	} else {
		s.claims.spare[consumer] = keep
	}
	return out
}

func (s *Store) keepSpare(consumer string, items []bot.OutboxItem) {
	now := time.Now()
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	for _, it := range items {
		s.claims.spare[consumer] = append(s.claims.spare[consumer], spareItem{item: it, read: now})
	}
}

// parseEntry splits "<shard>/<stream id>".
func parseEntry(entry string) (int, string, error) {
	sh, id, ok := strings.Cut(entry, "/")
	n, err := strconv.Atoi(sh)
	if !ok || err != nil || n < 0 || n >= Shards || id == "" {
		return 0, "", fmt.Errorf("bad outbox entry %q", entry)
	}
	return n, id, nil
}

func isNoGroup(err error) bool {
	return err != nil && strings.Contains(err.Error(), "NOGROUP")
}
