package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	// cursor is where each shard's next XAUTOCLAIM starts ("" for the start). One call
	// with COUNT n looks at no more than 10·n pending entries, so always starting at the
	// head would leave the tail of a long pending list (items not yet due, ahead of a due
	// one) unseen for ever; continuing from the returned cursor walks the whole list
	// round and round.
	cursor [Shards]string
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
		items, buried, err := s.claimOnce(ctx, consumer, n, idle)
		if err != nil || len(items) > 0 {
			return items, err
		}
		if buried {
			continue // dead entries made room: what was behind them is there now
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

// Outbox is a worker's view of the outbox (bot.Outbox): Claim, Renew (Hold) and Retry
// (Postpone) for that worker, with idle and block.
func (s *Store) Outbox(worker string, idle, block time.Duration) bot.Outbox {
	return &outboxClaims{s: s, worker: worker, idle: idle, block: block}
}

// outboxClaims is one worker's view of the outbox. A claimed entry is the worker's
// while it is in the worker's pending list of the consumer group: renewing resets its
// idle time, and any worker takes it over once it has been idle for idle.
type outboxClaims struct {
	s           *Store
	worker      string
	idle, block time.Duration
}

// Claim claims up to n items, renews the claims at once (an item may have waited up to
// idle/2 as the store's spare) and reads what is known of their earlier attempts. When
// that fails, the items stay claimed and come back after idle.
func (o *outboxClaims) Claim(ctx context.Context, n int) ([]bot.OutboxItem, error) {
	items, err := o.s.Claim(ctx, o.worker, n, o.idle, o.block)
	if err != nil || len(items) == 0 {
		return items, err
	}
	mine, err := o.s.Hold(ctx, o.worker, items)
	if err != nil {
		return nil, fmt.Errorf("redisstore: claim: %w", err)
	}
	kept := items[:0]
	for i, it := range items {
		if mine[i] {
			kept = append(kept, it)
		}
	}
	if items = kept; len(items) == 0 {
		return nil, nil
	}
	attempts, err := o.s.Attempts(ctx, items)
	if err != nil {
		return nil, fmt.Errorf("redisstore: claim: %w", err)
	}
	for i := range items {
		items[i].Attempts = attempts[i]
	}
	return items, nil
}

func (o *outboxClaims) Renew(ctx context.Context, items []bot.OutboxItem) ([]bool, error) {
	return o.s.Hold(ctx, o.worker, items)
}

func (o *outboxClaims) Index(ctx context.Context, sub bot.Submission) error {
	return o.s.Index(ctx, sub)
}

func (o *outboxClaims) Retry(ctx context.Context, item bot.OutboxItem, a bot.DeliveryAttempts) error {
	return o.s.Postpone(ctx, o.worker, item, a, o.idle)
}

func (o *outboxClaims) Fail(ctx context.Context, item bot.OutboxItem, f bot.SubmissionFailure) error {
	return o.s.Fail(ctx, item, f)
}

// Ack removes a delivered item. It is not fenced by the claim: a worker whose claim
// lapsed while the intake took the submission removes it all the same, and a worker
// that took the claim over skips it (Renew finds it gone) rather than deliver it
// again.
func (o *outboxClaims) Ack(ctx context.Context, item bot.OutboxItem) error {
	return o.s.Ack(ctx, item)
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
// It reports whether it moved unreadable entries to the dead letters.
func (s *Store) claimOnce(ctx context.Context, consumer string, n int, idle time.Duration) ([]bot.OutboxItem, bool, error) {
	items, buried, err := s.readShards(ctx, consumer, n, idle)
	if isNoGroup(err) {
		// The streams were removed behind our back (FLUSHDB, a new server): create the
		// groups again and retry once.
		s.claims.mu.Lock()
		s.claims.groups = false
		s.claims.mu.Unlock()
		items, buried, err = s.readShards(ctx, consumer, n, idle)
	}
	if err != nil {
		return nil, false, fmt.Errorf("redisstore: claim: %w", err)
	}
	if len(items) > n {
		s.keepSpare(consumer, items[n:])
		items = items[:n]
	}
	return items, buried, nil
}

func (s *Store) readShards(ctx context.Context, consumer string, n int, idle time.Duration) ([]bot.OutboxItem, bool, error) {
	if err := s.ensureGroups(ctx); err != nil {
		return nil, false, err
	}
	s.claims.mu.Lock()
	cursor := s.claims.cursor
	s.claims.mu.Unlock()
	pipe := s.c.Pipeline()
	auto := make([]*redis.XAutoClaimCmd, Shards)
	fresh := make([]*redis.XStreamSliceCmd, Shards)
	for sh := range Shards {
		stream := s.outboxStream(sh)
		auto[sh] = pipe.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: stream, Group: IntakeGroup, Consumer: consumer,
			MinIdle: idle, Start: cmp.Or(cursor[sh], "0-0"), Count: int64(n),
		})
		fresh[sh] = pipe.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: IntakeGroup, Consumer: consumer,
			Streams: []string{stream, ">"}, Count: int64(n), Block: -1, // -1: do not block
		})
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, false, err
	}
	var reclaimed, items []bot.OutboxItem
	var dead []deadEntry
	for sh := range Shards {
		msgs, next, err := auto[sh].Result()
		if err != nil {
			return nil, false, err
		}
		cursor[sh] = next // "0-0" when the scan reached the end: the next one starts over
		for _, m := range msgs {
			it, err := s.item(sh, m, 0)
			if err != nil {
				dead = append(dead, deadEntry{shard: sh, msg: m, err: err})
				continue
			}
			reclaimed = append(reclaimed, it)
		}
		streams, err := fresh[sh].Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, false, err
		}
		for _, st := range streams {
			for _, m := range st.Messages {
				it, err := s.item(sh, m, 1)
				if err != nil {
					dead = append(dead, deadEntry{shard: sh, msg: m, err: err})
					continue
				}
				items = append(items, it)
			}
		}
	}
	s.claims.mu.Lock()
	s.claims.cursor = cursor
	s.claims.mu.Unlock()
	buried := s.bury(ctx, dead)
	if err := s.countDeliveries(ctx, reclaimed); err != nil {
		return nil, false, err
	}
	return append(reclaimed, items...), buried, nil
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

// item decodes one outbox entry.
func (s *Store) item(shard int, m redis.XMessage, deliveries int64) (bot.OutboxItem, error) {
	it := bot.OutboxItem{Entry: entryName(shard, m.ID), Deliveries: deliveries}
	raw, _ := m.Values["s"].(string)
	if err := json.Unmarshal([]byte(raw), &it.Submission); err != nil {
		return it, fmt.Errorf("unreadable submission: %w", err)
	}
	if it.Submission.ID == "" {
		// Its retry schedule and failed record are kept under the id: without one it
		// could be neither retried nor failed.
		return it, errors.New("unreadable submission: no id")
	}
	return it, nil
}

func entryName(shard int, id string) string { return strconv.Itoa(shard) + "/" + id }

// holdScript re-asserts a consumer's claim on outbox entries: each entry still in the
// consumer's pending list gets its idle time reset (XCLAIM … JUSTID, which leaves the
// delivery counter alone) and is reported 1; an entry another consumer reclaimed, or
// that left the outbox, is left alone and reported 0. Check and claim are one step, so
// no XAUTOCLAIM slips in between.
//
// KEYS: outbox. ARGV: group, consumer, entry ids.
var holdScript = redis.NewScript(`
local out = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
`)

// Hold re-asserts consumer's claim on items and resets their idle time, so that no
// other consumer reclaims them while consumer works on them. It reports, in order,
// whether each is still consumer's. Behind bot.Outbox.Renew.
func (s *Store) Hold(ctx context.Context, consumer string, items []bot.OutboxItem) ([]bool, error) {
	out := make([]bool, len(items))
	byShard := map[int][]int{} // shard → indexes into items
	var shards []int
	for i, it := range items {
		shard, _, err := parseEntry(it.Entry)
		if err != nil {
			return nil, fmt.Errorf("redisstore: hold: %w", err)
		}
		if _, ok := byShard[shard]; !ok {
			shards = append(shards, shard)
		}
		byShard[shard] = append(byShard[shard], i)
	}
	// One script per shard: on a cluster the shards live on different nodes. A batch
	// spans a few shards, and this runs a few times a minute.
	for _, shard := range shards {
		idx := byShard[shard]
		args := []any{IntakeGroup, consumer}
		for _, i := range idx {
			_, id, _ := parseEntry(items[i].Entry) // checked above
			args = append(args, id)
		}
		res, err := holdScript.Run(ctx, s.c, []string{s.outboxStream(shard)}, args...).Int64Slice()
		if err != nil {
			return nil, fmt.Errorf("redisstore: hold: %w", err)
		}
		for k, i := range idx {
			out[i] = k < len(res) && res[k] == 1
		}
	}
	return out, nil
}

// DeadEntry is an outbox entry that could not be read as a submission. It cannot be
// delivered, so Claim moves it out of the outbox, where it would otherwise stay pending
// for ever and crowd out the entries behind it, into the shard's dead letters
// (<p>:{sNN}:intake:dead, a hash by stream id, kept until an operator removes it).
type DeadEntry = bot.DeadEntry

type deadEntry struct {
	shard int
	msg   redis.XMessage
	err   error
}

// bury moves unreadable entries to the dead letters: XACK, XDEL and the record in one
// transaction per shard. A failure is logged and the entries stay pending: a later
// Claim meets them again and retries. Logs name entries by id only; their content may
// be personal data. It reports whether it moved any.
func (s *Store) bury(ctx context.Context, dead []deadEntry) bool {
	if len(dead) == 0 {
		return false
	}
	now := time.Now()
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, d := range dead {
			fields := make(map[string]string, len(d.msg.Values))
			for k, v := range d.msg.Values {
				fields[k] = fmt.Sprint(v)
			}
			b, err := json.Marshal(DeadEntry{
				Entry: entryName(d.shard, d.msg.ID), Fields: fields, Reason: d.err.Error(), At: now,
			})
			if err != nil {
				return err
			}
			stream := s.outboxStream(d.shard)
			p.HSet(ctx, s.deadKey(d.shard), d.msg.ID, b)
			p.XAck(ctx, stream, IntakeGroup, d.msg.ID)
			p.XDel(ctx, stream, d.msg.ID)
		}
		return nil
	})
	for _, d := range dead {
		entry := entryName(d.shard, d.msg.ID)
		if err != nil {
			s.log.Error("outbox entry unreadable; moving it to the dead letters failed", "entry", entry, "err", err)
			continue
		}
		s.log.Error("outbox entry unreadable; moved to the dead letters", "entry", entry)
	}
	return err == nil
}

// DeadEntries lists the outbox's dead letters, the oldest entry first.
func (s *Store) DeadEntries(ctx context.Context) ([]DeadEntry, error) {
	out, err := shardRecords[DeadEntry](ctx, s, s.deadKey)
	if err != nil {
		return nil, fmt.Errorf("redisstore: dead entries: %w", err)
	}
	slices.SortFunc(out, func(a, b DeadEntry) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Entry, b.Entry))
	})
	return out, nil
}

func (s *Store) deadKey(shard int) string {
	return s.prefix + ":" + tag(shard) + ":intake:dead"
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

// takeSpare hands out up to n of the consumer's spare items. Items older than idle/2 are
// dropped: the caller must have time to work on them before other consumers may reclaim
// them, and XAUTOCLAIM finds them again for this one after idle.
func (s *Store) takeSpare(consumer string, n int, idle time.Duration) []bot.OutboxItem {
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	var out []bot.OutboxItem
	var keep []spareItem
	for _, sp := range s.claims.spare[consumer] {
		switch {
		case time.Since(sp.read) >= idle/2:
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
