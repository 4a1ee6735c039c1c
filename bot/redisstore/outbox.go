package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// IntakeGroup is the consumer group that reads the outbox.
const IntakeGroup = "intake"

// claimState is the Store's memory of outbox consumers.
type claimState struct {
	mu     sync.Mutex
	groups bool // the intake group exists on every shard's outbox
	// spare holds items a consumer claimed but Claim did not hand out yet (a claim takes
	// up to n from each of the 32 shards). Their leases are held; if the process dies,
	// another consumer takes them over once the leases ran out.
	spare map[string][]spareItem
	// looks are each consumer's shardLook (toRead).
	looks map[string]*shardLook
}

type spareItem struct {
	item bot.OutboxItem
	read time.Time
}

// Claim returns up to n submissions for consumer, each under a Lease of one lease
// period (idle, at most MaxLeasePeriod; idle <= 0 takes MaxLeasePeriod): first entries
// whose lease is free and that were left alone for at least idle (a dead consumer's,
// or postponed ones now due), then new ones. With none, it looks again at every shard
// each Options.OutboxPoll, and at once at the shard of a submission this store commits,
// until block has passed, then returns no items and no error. Behind bot.Outbox
// (outboxClaims).
//
// Deliveries is 1 for an item read for the first time, and the stream's delivery count
// for a taken-over one. Fence is the item's lease token.
func (s *Store) Claim(ctx context.Context, consumer string, n int, idle, block time.Duration) ([]bot.OutboxItem, error) {
	if consumer == "" || n <= 0 {
		return nil, errors.New("redisstore: claim: consumer and n > 0 are required")
	}
	deadline := time.Now().Add(block)
	wake := s.wakes.of("outbox", "")
	// A call begins with every shard unless the consumer looked at them within a tenth
	// of OutboxPoll (a worker claiming again as soon as it delivered: what is new since
	// is signalled or kept for it); while it waits, it looks at them each OutboxPoll.
	fresh := s.o.OutboxPoll / 10
	for {
		woken := wake.wait() // before reading: a submission committed meanwhile wakes it
		read, every := s.claims.toRead(consumer, wake.take(), fresh)
		fresh = s.o.OutboxPoll
		if items := s.takeSpare(consumer, n, idle); len(items) > 0 {
			s.claims.putBack(consumer, read, every)
			return items, nil
		}
		if len(read) > 0 {
			items, full, buried, err := s.claimOnce(ctx, consumer, n, idle, read)
			if err != nil {
				s.claims.putBack(consumer, read, every)
				return nil, err
			}
			s.claims.putBack(consumer, full.list(), false) // they may hold more
			if len(items) > 0 {
				return items, nil
			}
			if buried {
				s.claims.putBack(consumer, nil, true)
				continue // dead entries made room: what was behind them is there now
			}
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, nil
		}
		t := time.NewTimer(min(wait, s.claims.untilLook(consumer, s.o.OutboxPoll)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("redisstore: claim: %w", ctx.Err())
		case <-woken:
		case <-t.C:
		}
		t.Stop()
	}
}

// toRead is what a consumer's Claim reads now: every shard when it last did at least
// after ago (every is then true), else the shards signalled and those kept for it. A
// worker calls Claim again as soon as it has delivered: were every call to begin with
// all 32 shards, a rush would cost 32 scripts a submission (they were, until
// 2026-12-07: the benchmark of waiting citizens showed it).
func (c *claimState) toRead(consumer string, signalled shardSet, after time.Duration) (read []int, every bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	want, every := c.look(consumer).next(signalled, after)
	if every {
		return allShards, true
	}
	return want.list(), false
}

// putBack keeps shards for the consumer's next Claim; every: it looks at every shard.
func (c *claimState) putBack(consumer string, shards []int, every bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lk := c.look(consumer)
	for _, sh := range shards {
		lk.more.add(sh)
	}
	if every {
		lk.all = time.Time{}
	}
}

// untilLook is how long until the consumer's next look at every shard.
func (c *claimState) untilLook(consumer string, poll time.Duration) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(poll-time.Since(c.look(consumer).all), time.Millisecond)
}

// look is the consumer's shardLook; c.mu is held.
func (c *claimState) look(consumer string) *shardLook {
	lk := c.looks[consumer]
	if lk == nil {
		lk = &shardLook{}
		c.looks[consumer] = lk
	}
	return lk
}

// allShards are the shards 0 to Shards-1, in order.
var allShards = func() []int {
	out := make([]int, Shards)
	for i := range out {
		out[i] = i
	}
	return out
}()

// outboxLeasePeriod is the lease period of a claim with the given idle.
func outboxLeasePeriod(idle time.Duration) time.Duration {
	if idle <= 0 {
		return MaxLeasePeriod
	}
	return time.Duration(leaseMillis(idle)) * time.Millisecond
}

// Outbox is a worker's view of the outbox (bot.Outbox): Claim, Renew (Hold), Ack,
// Retry (Postpone) and Fail for that worker, whose claims are leases of idle (at most
// MaxLeasePeriod), with block.
func (s *Store) Outbox(worker string, idle, block time.Duration) bot.Outbox {
	return &outboxClaims{s: s, worker: worker, idle: idle, block: block}
}

// outboxClaims is one worker's view of the outbox. A claimed entry is the worker's
// while the worker holds its Lease (<p>:{sNN}:lease:outbox:<stream id>): renewing
// extends it, and once it ran out any worker takes the entry over. Ack, Retry and
// Fail check the lease in the same script, and refuse (ErrLeaseLost, bot.ErrClaimLost)
// when it is lost.
type outboxClaims struct {
	s           *Store
	worker      string
	idle, block time.Duration
}

// Claim claims up to n items and reads what is known of their earlier attempts. The
// claims are not renewed here: fresh ones were just taken, and a spare one is at most
// a third of the lease period old (see takeSpare), so the worker's first renewal, a
// third of the period later, comes well within the lease. When reading the attempts
// fails, the items stay claimed and come back after one lease period.
func (o *outboxClaims) Claim(ctx context.Context, n int) ([]bot.OutboxItem, error) {
	items, err := o.s.Claim(ctx, o.worker, n, o.idle, o.block)
	if err != nil || len(items) == 0 {
		return items, err
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
	return o.s.Hold(ctx, o.worker, items, o.idle)
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

func (o *outboxClaims) Ack(ctx context.Context, item bot.OutboxItem) error {
	return o.s.Ack(ctx, item)
}

// outboxLeaseKey is the lease of one outbox entry, in the entry's shard.
func (s *Store) outboxLeaseKey(shard int, id string) string {
	return s.outboxLeasePrefix(shard) + id
}

func (s *Store) outboxLeasePrefix(shard int) string {
	return s.prefix + ":" + tag(shard) + ":lease:" + s.outboxName() + ":"
}

// lost is the error of an acknowledgement refused because item's lease is lost.
func lost(op string, item bot.OutboxItem) error {
	return fmt.Errorf("redisstore: %s %s: %w: %w", op, item.Entry, ErrLeaseLost, bot.ErrClaimLost)
}

// fencedOutboxScript runs one of the outbox's acknowledgements if the entry's lease
// still holds the item's token, then frees the lease; it returns 0, and changes
// nothing, when the lease is lost. ARGV[3] names the step:
//
//	ack:      XACK + XDEL, forget the retry schedule
//	fail:     the failed record (ARGV[7]) in, the retry schedule out, XACK + XDEL
//	postpone: the retry schedule (ARGV[7]) in, the entry's idle time set to ARGV[8]
//	          ms (XCLAIM … JUSTID: the delivery counter is left alone)
//
// KEYS: lease, outbox, retry, failed. ARGV: token, stream id, step, group, consumer,
// submission id, record, idle.
var fencedOutboxScript = redis.NewScript(`
if not (` + leaseHeld + `) then
  return 0
end
local step, sub = ARGV[3], ARGV[6]
if step == 'postpone' then
  redis.call('HSET', KEYS[3], sub, ARGV[7])
  redis.call('XCLAIM', KEYS[2], ARGV[4], ARGV[5], 0, ARGV[2], 'IDLE', ARGV[8], 'JUSTID')
else
  if step == 'fail' then
    redis.call('HSET', KEYS[4], sub, ARGV[7])
  end
  if sub ~= '' then
    redis.call('HDEL', KEYS[3], sub)
  end
  redis.call('XACK', KEYS[2], ARGV[4], ARGV[2])
  redis.call('XDEL', KEYS[2], ARGV[2])
end
redis.call('DEL', KEYS[1])
return 1
`)

// fenced runs fencedOutboxScript for item.
func (s *Store) fenced(ctx context.Context, op string, item bot.OutboxItem, consumer string, record []byte, idle time.Duration) error {
	shard, id, err := parseEntry(item.Entry)
	if err != nil {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	keys := []string{s.outboxLeaseKey(shard, id), s.outboxStream(shard), s.retryKey(shard), s.failedKey(shard)}
	ok, err := fencedOutboxScript.Run(ctx, s.c, keys, item.Fence, id, op, IntakeGroup, consumer,
		item.Submission.ID, string(record), idle.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	if ok == 0 {
		return lost(op, item)
	}
	return nil
}

// Ack removes a delivered item from the outbox, with its retry schedule and its
// lease, in one script that first checks the lease (the keys share the shard's hash
// tag). A holder that lost the lease gets ErrLeaseLost and the entry stays for the new
// holder, which delivers it again (the intake keeps one).
func (s *Store) Ack(ctx context.Context, item bot.OutboxItem) error {
	return s.fenced(ctx, "ack", item, "", nil, 0)
}

// Postpone records the schedule, frees the item's lease and sets the entry's idle time
// so that a claim with idle idle finds it again at a.Next (after idle at the latest):
// the wait survives a restart without any timer in memory. Fenced like Ack.
func (s *Store) Postpone(ctx context.Context, consumer string, item bot.OutboxItem, a bot.DeliveryAttempts, idle time.Duration) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("redisstore: postpone: %w", err)
	}
	period := outboxLeasePeriod(idle)
	wait := min(max(time.Until(a.Next), 0), period) // a zero Next: due now
	setIdle := period - wait
	return s.fenced(ctx, "postpone", item, consumer, b, setIdle)
}

// Fail moves the item to the failed list and out of the outbox, and frees its lease,
// in one script. Fenced like Ack.
func (s *Store) Fail(ctx context.Context, item bot.OutboxItem, f bot.SubmissionFailure) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("redisstore: fail: %w", err)
	}
	return s.fenced(ctx, "fail", item, "", b, 0)
}

// claimOnce claims from the given shards once: one claim script per shard, all in one
// pipeline (a cluster client splits it by node). Items beyond n are kept as spare.
// It reports the shards that gave n (they may hold more), and whether it moved
// unreadable entries to the dead letters.
func (s *Store) claimOnce(ctx context.Context, consumer string, n int, idle time.Duration, shards []int) ([]bot.OutboxItem, shardSet, bool, error) {
	items, full, buried, err := s.readShards(ctx, consumer, n, idle, shards)
	if isNoGroup(err) {
		// The streams were removed behind our back (FLUSHDB, a new server): create the
		// groups again and retry once.
		s.claims.mu.Lock()
		s.claims.groups = false
		s.claims.mu.Unlock()
		items, full, buried, err = s.readShards(ctx, consumer, n, idle, shards)
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("redisstore: claim: %w", err)
	}
	if len(items) > n {
		s.keepSpare(consumer, items[n:])
		items = items[:n]
	}
	return items, full, buried, nil
}

// claimShardScript claims up to n entries of one shard's outbox for a consumer, each
// under its own lease. First the pending entries left alone for at least min idle
// (XPENDING … IDLE: renewals and claims reset an entry's idle time, Postpone sets it
// to its schedule): an entry is taken only if SET NX takes its free lease, and only
// then is it moved to the consumer (XCLAIM), so a live holder never loses an entry.
// Then new entries (XREADGROUP), whose leases nobody can hold yet. It looks at no
// more than 10·n pending entries.
//
// KEYS: outbox. ARGV: group, consumer, lease key prefix, token prefix, lease period
// (ms), min idle (ms), n. Returns {stream id, deliveries, field, value, …} per entry.
var claimShardScript = redis.NewScript(`
local group, consumer, prefix, token, ttl, n = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[7])
local out = {}
local function add(m, deliveries)
  local e = {m[1], deliveries}
  for _, v in ipairs(m[2]) do e[#e + 1] = v end
  out[#out + 1] = e
end
for _, p in ipairs(redis.call('XPENDING', KEYS[1], group, 'IDLE', ARGV[6], '-', '+', 10 * n)) do
  if #out >= n then break end
  local id = p[1]
  if redis.call('SET', prefix .. id, token .. id, 'NX', 'PX', ttl) then
    local m = redis.call('XCLAIM', KEYS[1], group, consumer, 0, id)
    if m[1] then
      add(m[1], p[4] + 1)
    else
      redis.call('DEL', prefix .. id) -- the entry is gone
    end
  end
end
if #out < n then
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', n - #out, 'STREAMS', KEYS[1], '>')
  if r then
    for _, m in ipairs(r[1][2]) do
      redis.call('SET', prefix .. m[1], token .. m[1], 'PX', ttl)
      add(m, 1)
    end
  end
end
return out
`)

func (s *Store) readShards(ctx context.Context, consumer string, n int, idle time.Duration, shards []int) ([]bot.OutboxItem, shardSet, bool, error) {
	if err := s.ensureGroups(ctx); err != nil {
		return nil, 0, false, err
	}
	token := consumer + "/" + newToken() + "/" // + stream id: one token per entry
	period := outboxLeasePeriod(idle).Milliseconds()
	minIdle := min(max(idle, 0), MaxLeasePeriod).Milliseconds() // Postpone's schedules count to this
	res, err := pipelineScripts(ctx, s.c, claimShardScript, shards, func(sh int) ([]string, []any) {
		return []string{s.outboxStream(sh)},
			[]any{IntakeGroup, consumer, s.outboxLeasePrefix(sh), token, period, minIdle, n}
	})
	if err != nil {
		return nil, 0, false, err
	}
	var items []bot.OutboxItem
	var dead []deadEntry
	var full shardSet // the shards that gave n: they may hold more
	for i, r := range res {
		sh := shards[i]
		entries, _ := r.([]any)
		if len(entries) >= n {
			full.add(sh)
		}
		for _, e := range entries {
			m, deliveries := claimedMessage(e)
			it, err := s.item(sh, m, deliveries)
			it.Fence = token + m.ID
			if err != nil {
				dead = append(dead, deadEntry{shard: sh, msg: m, err: err})
				continue
			}
			items = append(items, it)
		}
	}
	return items, full, s.bury(ctx, dead), nil
}

// pipelineScripts runs script once for each of shards in one pipeline and returns
// each one's result, in their order. A server that does not know the script yet answers NOSCRIPT: the pipeline is
// sent again with the script's body, once.
func pipelineScripts(ctx context.Context, c redis.UniversalClient, script *redis.Script, shards []int, args func(sh int) ([]string, []any)) ([]any, error) {
	run := func(eval bool) ([]*redis.Cmd, error) {
		pipe := c.Pipeline()
		cmds := make([]*redis.Cmd, len(shards))
		for i, sh := range shards {
			keys, argv := args(sh)
			if eval {
				cmds[i] = script.Eval(ctx, pipe, keys, argv...)
			} else {
				cmds[i] = script.EvalSha(ctx, pipe, keys, argv...)
			}
		}
		_, err := pipe.Exec(ctx)
		return cmds, err
	}
	cmds, err := run(false)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		cmds, err = run(true)
	}
	if err != nil {
		return nil, err
	}
	out := make([]any, len(shards))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// claimedMessage decodes one entry of claimShardScript's answer.
func claimedMessage(e any) (redis.XMessage, int64) {
	f, _ := e.([]any)
	var m redis.XMessage
	var deliveries int64
	if len(f) >= 2 {
		m.ID, _ = f[0].(string)
		deliveries, _ = f[1].(int64)
	}
	m.Values = make(map[string]any, (len(f)-2)/2)
	for i := 2; i+1 < len(f); i += 2 {
		k, _ := f[i].(string)
		m.Values[k] = f[i+1]
	}
	return m, deliveries
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

// holdScript renews a consumer's leases on outbox entries: each entry whose lease
// still holds the item's token, and that is in the consumer's pending list, gets its
// lease extended and its idle time reset (XCLAIM … JUSTID, which leaves the delivery
// counter alone), so that claims do not look at it; it is reported 1. An entry whose
// lease is lost, or that left the outbox, is left alone and reported 0.
//
// KEYS: outbox. ARGV: group, consumer, lease key prefix, lease period (ms), then
// stream id and token of each entry.
var holdScript = redis.NewScript(`
local group, consumer, prefix, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local out = {}
for i = 5, #ARGV, 2 do
  local id, held = ARGV[i], 0
  if redis.call('GET', prefix .. id) == ARGV[i + 1] then
    local p = redis.call('XPENDING', KEYS[1], group, id, id, 1)
    if p[1] and p[1][2] == consumer then
      redis.call('PEXPIRE', prefix .. id, ttl)
      redis.call('XCLAIM', KEYS[1], group, consumer, 0, id, 'JUSTID')
      held = 1
    end
  end
  out[#out + 1] = held
end
return out
`)

// Hold renews consumer's leases on items for one lease period of idle (at most
// MaxLeasePeriod), so that no other consumer takes them over while consumer works on
// them. It reports, in order, whether each is still consumer's. Behind
// bot.Outbox.Renew.
func (s *Store) Hold(ctx context.Context, consumer string, items []bot.OutboxItem, idle time.Duration) ([]bool, error) {
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
	period := outboxLeasePeriod(idle).Milliseconds()
	// One script per shard: on a cluster the shards live on different nodes. A batch
	// spans a few shards, and this runs a few times a lease period.
	for _, shard := range shards {
		idx := byShard[shard]
		args := []any{IntakeGroup, consumer, s.outboxLeasePrefix(shard), period}
		for _, i := range idx {
			_, id, _ := parseEntry(items[i].Entry) // checked above
			args = append(args, id, items[i].Fence)
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

// bury moves unreadable entries to the dead letters: XACK, XDEL, the record and the
// end of the lease claimShardScript took, in one transaction per shard (a transaction
// across shards is refused on a cluster). A failure is logged and the shard's entries
// stay pending: a later Claim meets them again and retries. Logs name entries by id
// only; their content may be personal data. It reports whether it moved any.
func (s *Store) bury(ctx context.Context, dead []deadEntry) bool {
	byShard := map[int][]deadEntry{}
	for _, d := range dead {
		byShard[d.shard] = append(byShard[d.shard], d)
	}
	now := time.Now()
	moved := false
	for shard, dead := range byShard {
		_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			stream := s.outboxStream(shard)
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
				p.HSet(ctx, s.deadKey(d.shard), d.msg.ID, b)
				p.XAck(ctx, stream, IntakeGroup, d.msg.ID)
				p.XDel(ctx, stream, d.msg.ID)
				p.Del(ctx, s.outboxLeaseKey(d.shard, d.msg.ID))
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
		moved = moved || err == nil
	}
	return moved
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

// takeSpare hands out up to n of the consumer's spare items. Items older than a third of
// the lease period are dropped: the caller must have time to work on them, and renew
// them a third of the period after it got them, before their leases run out; a claim
// finds them again once the leases ran out.
func (s *Store) takeSpare(consumer string, n int, idle time.Duration) []bot.OutboxItem {
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	var out []bot.OutboxItem
	var keep []spareItem
	for _, sp := range s.claims.spare[consumer] {
		switch {
		case time.Since(sp.read) >= outboxLeasePeriod(idle)/3:
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
