package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// This file keeps broadcasts and their fan-out. A broadcast's record is global
// (<p>:bc:<id>, listed in <p>:bc:list); its fan-out is per shard, in the shard's
// hash-tag slot beside the audience indexes and the bulk lanes it reads and fills:
//
//	<p>:{sNN}:bc:<id>        hash: cursor (the audience walk's), done, queued, sent, failed, skip:<reason>, cancelled
//	<p>:{sNN}:bc:<id>:to     set: the conversations already given the broadcast
//	<p>:{sNN}:bc:<id>:tried  set: the conversations a sender tried it on (Attempt): at most once each
//	<p>:{sNN}:lease:bc:<id>  the lease of the process fanning the shard out
//
// A page of recipients goes to the bulk lanes in one script that adds each to the
// shard's set first and queues only those it added, and saves the walk's cursor: a
// process killed at any point leaves a shard that the next holder resumes from its
// cursor, and a recipient read twice is queued once.

// BroadcastKeep is how long a broadcast's per-shard state outlives its last change.
const BroadcastKeep = 30 * 24 * time.Hour

func (s *Store) broadcastKey(id string) string { return s.prefix + ":bc:" + id }
func (s *Store) broadcastList() string         { return s.prefix + ":bc:list" }
func (s *Store) broadcastShard(id string, shard int) string {
	return s.prefix + ":" + tag(shard) + ":bc:" + id
}

// SaveBroadcast creates a broadcast (ErrBroadcastExists when its id is taken).
func (s *Store) SaveBroadcast(ctx context.Context, b bot.Broadcast) error {
	if err := b.Validate(); err != nil {
		return err
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("redisstore: encode broadcast: %w", err)
	}
	ok, err := s.c.HSetNX(ctx, s.broadcastKey(b.ID), "b", raw).Result()
	if err != nil {
		return fmt.Errorf("redisstore: save broadcast %s: %w", b.ID, err)
	}
	if !ok {
		return fmt.Errorf("redisstore: broadcast %s: %w", b.ID, ErrBroadcastExists)
	}
	if err := s.c.HSet(ctx, s.broadcastKey(b.ID), "state", string(b.State)).Err(); err != nil {
		return fmt.Errorf("redisstore: save broadcast %s: %w", b.ID, err)
	}
	if err := s.c.ZAdd(ctx, s.broadcastList(), redis.Z{Score: float64(b.Created.UnixMilli()), Member: b.ID}).Err(); err != nil {
		return fmt.Errorf("redisstore: list broadcast %s: %w", b.ID, err)
	}
	return nil
}

// ErrBroadcastExists: a broadcast with that id exists.
var ErrBroadcastExists = errors.New("broadcast exists")

// Broadcast reads one broadcast (bot.ErrUnknownBroadcast when there is none).
func (s *Store) Broadcast(ctx context.Context, id string) (bot.Broadcast, error) {
	f, err := s.c.HGetAll(ctx, s.broadcastKey(id)).Result()
	if err != nil {
		return bot.Broadcast{}, fmt.Errorf("redisstore: broadcast %s: %w", id, err)
	}
	return decodeBroadcast(id, f)
}

func decodeBroadcast(id string, f map[string]string) (bot.Broadcast, error) {
	if f["b"] == "" {
		return bot.Broadcast{}, fmt.Errorf("broadcast %s: %w", id, bot.ErrUnknownBroadcast)
	}
	var b bot.Broadcast
	if err := json.Unmarshal([]byte(f["b"]), &b); err != nil {
		return bot.Broadcast{}, fmt.Errorf("redisstore: broadcast %s: %w", id, err)
	}
	b.State = bot.BroadcastState(f["state"])
	return b, nil
}

// Broadcasts lists the n latest broadcasts, newest first.
func (s *Store) Broadcasts(ctx context.Context, n int) ([]bot.Broadcast, error) {
	ids, err := s.c.ZRevRange(ctx, s.broadcastList(), 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: broadcasts: %w", err)
	}
	pipe := s.c.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, s.broadcastKey(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redisstore: broadcasts: %w", err)
	}
	out := make([]bot.Broadcast, 0, len(ids))
	for i, id := range ids {
		b, err := decodeBroadcast(id, cmds[i].Val())
		if err != nil {
			s.log.Error("unreadable broadcast", "broadcast", id, "err", err)
			continue
		}
		out = append(out, b)
	}
	return out, nil
}

// setStateScript moves a broadcast to ARGV[1] when its state is one of the others.
var setStateScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return -1 end
for i = 2, #ARGV do
  if ARGV[i] == st then
    redis.call('HSET', KEYS[1], 'state', ARGV[1])
    return 1
  end
end
return 0
`)

// SetBroadcastState moves a broadcast to state when it is in one of from; ok is false
// when it was not (someone else moved it first).
func (s *Store) SetBroadcastState(ctx context.Context, id string, state bot.BroadcastState, from ...bot.BroadcastState) (bool, error) {
	args := []any{string(state)}
	for _, f := range from {
		args = append(args, string(f))
	}
	n, err := setStateScript.Run(ctx, s.c, []string{s.broadcastKey(id)}, args...).Int()
	switch {
	case err != nil:
		return false, fmt.Errorf("redisstore: broadcast %s to %s: %w", id, state, err)
	case n < 0:
		return false, fmt.Errorf("broadcast %s: %w", id, bot.ErrUnknownBroadcast)
	}
	return n == 1, nil
}

// BroadcastShard is one shard's fan-out, held under a lease.
type BroadcastShard struct {
	Lease
	ID    string
	Shard int
	// Cursor is where the audience walk stands (Store.Audience's); Done, that the
	// shard's every recipient is queued.
	Cursor string
	Done   bool
}

// ClaimBroadcastShard takes the fan-out of one shard of a broadcast for holder, for
// ttl; ok is false when another process has it.
func (s *Store) ClaimBroadcastShard(ctx context.Context, id string, shard int, holder string, ttl time.Duration) (BroadcastShard, bool, error) {
	key := s.prefix + ":" + tag(shard) + ":lease:bc:" + id
	l, ok, err := claimLease(ctx, s.c, key, holder, ttl)
	if err != nil || !ok {
		return BroadcastShard{}, false, err
	}
	f, err := s.c.HMGet(ctx, s.broadcastShard(id, shard), "cursor", "done").Result()
	if err != nil {
		_ = releaseLease(ctx, s.c, l)
		return BroadcastShard{}, false, fmt.Errorf("redisstore: broadcast %s shard %d: %w", id, shard, err)
	}
	sh := BroadcastShard{Lease: l, ID: id, Shard: shard}
	sh.Cursor, _ = f[0].(string)
	sh.Done = f[1] == "1"
	return sh, true, nil
}

// RenewBroadcastShard extends the claim; false when it was lost.
func (s *Store) RenewBroadcastShard(ctx context.Context, sh BroadcastShard, ttl time.Duration) (bool, error) {
	return renewLease(ctx, s.c, sh.Lease, ttl)
}

// ReleaseBroadcastShard gives the claim back.
func (s *Store) ReleaseBroadcastShard(ctx context.Context, sh BroadcastShard) error {
	return releaseLease(ctx, s.c, sh.Lease)
}

// queueBroadcastScript queues a page of a broadcast's recipients, each once.
//
// KEYS: lease, shard hash, the shard's set of recipients, then the shard's bulk lane
// of each channel (bot.AudienceChannels' order). ARGV: token, next cursor, done ("1"),
// n, keep (ms), then n times: conversation key, its lane's index (1-based), message.
var queueBroadcastScript = redis.NewScript(`
if not (` + leaseHeld + `) then
  return -1
end
local q = 0
local n = tonumber(ARGV[4])
for i = 0, n - 1 do
  local conv, lane, m = ARGV[6 + 3 * i], tonumber(ARGV[7 + 3 * i]), ARGV[8 + 3 * i]
  if redis.call('SADD', KEYS[3], conv) == 1 then
    redis.call('XADD', KEYS[3 + lane], '*', 'm', m)
    q = q + 1
  end
end
redis.call('HINCRBY', KEYS[2], 'queued', q)
redis.call('HSET', KEYS[2], 'cursor', ARGV[2])
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[2], 'done', '1')
end
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
return q
`)

// QueueBroadcast puts msgs (the shard's recipients, bot.Broadcast.Message) in their
// bulk lanes, those not given the broadcast yet, and moves the shard's cursor to next
// ("" when the walk is over: the shard is done). It returns how many it queued;
// ErrLeaseLost when the shard is someone else's now.
func (s *Store) QueueBroadcast(ctx context.Context, sh *BroadcastShard, msgs []bot.Outbound, next string) (int, error) {
	channels := bot.AudienceChannels()
	keys := []string{sh.Key, s.broadcastShard(sh.ID, sh.Shard), s.broadcastShard(sh.ID, sh.Shard) + ":to"}
	for _, ch := range channels {
		keys = append(keys, s.BulkStream(sh.Shard, ch))
	}
	done := "0"
	if next == "" {
		done = "1"
	}
	args := []any{sh.Token, next, done, len(msgs), millis(BroadcastKeep)}
	for _, o := range msgs {
		lane := slices.Index(channels, o.Conversation.Channel)
		if lane < 0 || ShardOf(o.Conversation) != sh.Shard {
			return 0, fmt.Errorf("redisstore: broadcast %s: %s is not a recipient of shard %d", sh.ID, bot.MaskID(o.Conversation.Key()), sh.Shard)
		}
		raw, err := json.Marshal(o)
		if err != nil {
			return 0, fmt.Errorf("redisstore: encode broadcast message: %w", err)
		}
		args = append(args, o.Conversation.Key(), lane+1, raw)
	}
	n, err := queueBroadcastScript.Run(ctx, s.c, keys, args...).Int()
	switch {
	case err != nil:
		return 0, fmt.Errorf("redisstore: queue broadcast %s shard %d: %w", sh.ID, sh.Shard, err)
	case n < 0:
		return 0, fmt.Errorf("queue broadcast %s shard %d: %w", sh.ID, sh.Shard, ErrLeaseLost)
	}
	sh.Cursor, sh.Done = next, next == ""
	if n > 0 {
		for _, o := range msgs {
			s.wakes.signal("bulk", o.Conversation.Channel, sh.Shard)
		}
	}
	return n, nil
}

// dropScript deletes a cancelled broadcast's messages from a bulk lane, those no
// sender has read yet, and counts them. KEYS: the lane, the shard hash. ARGV: the
// entry ids.
var dropScript = redis.NewScript(`
local n = 0
for i = 1, #ARGV do
  n = n + redis.call('XDEL', KEYS[1], ARGV[i])
end
if n > 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'cancelled', n)
end
return n
`)

// DropBroadcast takes a cancelled broadcast's messages out of the bulk lanes, those
// not read by a sender yet (one being sent goes), and returns how many.
func (s *Store) DropBroadcast(ctx context.Context, id string) (int64, error) {
	var total int64
	mark := []byte(`"broadcast":"` + id + `"`)
	group := DeliveryGroup
	for sh := range Shards {
		for _, ch := range bot.AudienceChannels() {
			stream := s.BulkStream(sh, ch)
			// Only what the group has not been given: entries after its last delivered id.
			from := "-"
			if groups, err := s.c.XInfoGroups(ctx, stream).Result(); err == nil {
				for _, g := range groups {
					if g.Name == group {
						from = "(" + g.LastDeliveredID
					}
				}
			} else if !isNoStream(err) {
				return total, fmt.Errorf("redisstore: drop broadcast %s: %w", id, err)
			}
			for {
				msgs, err := s.c.XRangeN(ctx, stream, from, "+", 500).Result()
				if err != nil {
					return total, fmt.Errorf("redisstore: drop broadcast %s: %w", id, err)
				}
				var ids []any
				for _, m := range msgs {
					if raw, _ := m.Values["m"].(string); bytes.Contains([]byte(raw), mark) {
						ids = append(ids, m.ID)
					}
				}
				if len(ids) > 0 {
					n, err := dropScript.Run(ctx, s.c, []string{stream, s.broadcastShard(id, sh)}, ids...).Int64()
					if err != nil {
						return total, fmt.Errorf("redisstore: drop broadcast %s: %w", id, err)
					}
					total += n
				}
				if len(msgs) < 500 {
					break
				}
				from = "(" + msgs[len(msgs)-1].ID
			}
		}
	}
	return total, nil
}

// isNoStream reports Redis's answer about a stream that does not exist.
func isNoStream(err error) bool { return err != nil && strings.Contains(err.Error(), "no such key") }

// BroadcastProgress sums the broadcast's shards.
func (s *Store) BroadcastProgress(ctx context.Context, id string) (bot.BroadcastProgress, error) {
	pipe := s.c.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, Shards)
	for sh := range Shards {
		cmds[sh] = pipe.HGetAll(ctx, s.broadcastShard(id, sh))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return bot.BroadcastProgress{}, fmt.Errorf("redisstore: broadcast %s progress: %w", id, err)
	}
	p := bot.BroadcastProgress{Shards: Shards}
	for _, c := range cmds {
		for k, v := range c.Val() {
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "done":
				if v == "1" {
					p.ShardsDone++
				}
			case "queued":
				p.Queued += n
			case "sent":
				p.Sent += n
			case "failed":
				p.Failed += n
			case "cancelled":
				p.Cancelled += n
			case "gone": // counted so before the skips had reasons
				p.AddSkipped(bot.SkipBlocked, n)
			default:
				if reason, ok := strings.CutPrefix(k, "skip:"); ok {
					p.AddSkipped(reason, n)
				}
			}
		}
	}
	return p, nil
}
