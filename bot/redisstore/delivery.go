package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// DeliveryGroup is the consumer group that reads every channel's delivery queue.
const DeliveryGroup = "delivery"

// FailedMax bounds each shard's record of undeliverable replies (the oldest go first):
// the record is for operators to look into, the citizen's text is in the transcript.
const FailedMax = 10000

// Delivery is the Redis delivery queue (bot.DeliveryQueue) and shared rate limiter
// (bot.RateLimiter) over the streams Store.Commit fills.
type Delivery struct {
	s      *Store
	mu     sync.Mutex
	groups map[string]bool
}

var (
	_ bot.DeliveryQueue = (*Delivery)(nil)
	_ bot.RateLimiter   = (*Delivery)(nil)
)

// Delivery returns the store's delivery queue.
func (s *Store) Delivery() *Delivery { return &Delivery{s: s, groups: map[string]bool{}} }

func (q *Delivery) leaseKey(ch bot.Channel, shard int) string {
	return q.s.prefix + ":" + tag(shard) + ":lease:out:" + string(ch)
}

func (q *Delivery) failedKey(ch bot.Channel, shard int) string {
	return q.s.prefix + ":" + tag(shard) + ":failed:" + string(ch)
}

// Shards is the number of shards of every queue.
func (q *Delivery) Shards() int { return Shards }

var heartbeatScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return redis.call('ZCARD', KEYS[1])
`)

// Heartbeat records the consumer in <p>:members:out:<channel> (a sorted set of last
// beats, kept for twice ttl) and counts those heard from within ttl.
func (q *Delivery) Heartbeat(ctx context.Context, ch bot.Channel, consumer string, ttl time.Duration) (int, error) {
	key := q.s.prefix + ":members:out:" + string(ch)
	n, err := heartbeatScript.Run(ctx, q.s.c, []string{key}, consumer, millis(ttl)).Int()
	if err != nil {
		return 0, fmt.Errorf("delivery heartbeat: %w", err)
	}
	return n, nil
}

var ownScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
`)

// Own takes or renews the shard's lease (<p>:{sNN}:lease:out:<channel>, expiring
// after ttl) and makes sure the shard's consumer group exists.
func (q *Delivery) Own(ctx context.Context, ch bot.Channel, shard int, consumer string, ttl time.Duration) (bool, error) {
	r, err := ownScript.Run(ctx, q.s.c, []string{q.leaseKey(ch, shard)}, consumer, millis(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("own delivery shard %d: %w", shard, err)
	}
	if r == 0 {
		return false, nil
	}
	if err := q.ensureGroup(ctx, ch, shard); err != nil {
		return true, err
	}
	return true, nil
}

// Disown gives the shard's lease back if the consumer holds it.
func (q *Delivery) Disown(ctx context.Context, ch bot.Channel, shard int, consumer string) error {
	if err := releaseScript.Run(ctx, q.s.c, []string{q.leaseKey(ch, shard)}, consumer).Err(); err != nil {
		return fmt.Errorf("disown delivery shard %d: %w", shard, err)
	}
	return nil
}

func (q *Delivery) ensureGroup(ctx context.Context, ch bot.Channel, shard int) error {
	stream := q.s.OutboundStream(shard, ch)
	q.mu.Lock()
	done := q.groups[stream]
	q.mu.Unlock()
	if done {
		return nil
	}
	err := q.s.c.XGroupCreateMkStream(ctx, stream, DeliveryGroup, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create delivery group on shard %d: %w", shard, err)
	}
	q.mu.Lock()
	q.groups[stream] = true
	q.mu.Unlock()
	return nil
}

// Reclaim takes over the entries read but never finished, oldest first.
func (q *Delivery) Reclaim(ctx context.Context, ch bot.Channel, shard int, consumer, cursor string, n int) ([]bot.Delivery, string, error) {
	msgs, next, err := q.s.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: q.s.OutboundStream(shard, ch), Group: DeliveryGroup, Consumer: consumer,
		Start: cursor, Count: int64(n),
	}).Result()
	if err != nil {
		q.forgetGroup(ch, shard, err)
		return nil, cursor, fmt.Errorf("reclaim delivery shard %d: %w", shard, err)
	}
	return q.decode(ctx, ch, shard, msgs), next, nil
}

// Read returns new entries of the shard.
func (q *Delivery) Read(ctx context.Context, ch bot.Channel, shard int, consumer string, n int) ([]bot.Delivery, error) {
	res, err := q.s.c.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: DeliveryGroup, Consumer: consumer,
		Streams: []string{q.s.OutboundStream(shard, ch), ">"}, Count: int64(n), Block: -1,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		q.forgetGroup(ch, shard, err)
		return nil, fmt.Errorf("read delivery shard %d: %w", shard, err)
	}
	var out []bot.Delivery
	for _, st := range res {
		out = append(out, q.decode(ctx, ch, shard, st.Messages)...)
	}
	return out, nil
}

// forgetGroup makes the next Own create the group again after the stream vanished.
func (q *Delivery) forgetGroup(ch bot.Channel, shard int, err error) {
	if isNoGroup(err) {
		q.mu.Lock()
		delete(q.groups, q.s.OutboundStream(shard, ch))
		q.mu.Unlock()
	}
}

// decode turns stream entries into deliveries. An entry that cannot be read is moved to
// the failure record at once, so it does not block the queue.
func (q *Delivery) decode(ctx context.Context, ch bot.Channel, shard int, msgs []redis.XMessage) []bot.Delivery {
	out := make([]bot.Delivery, 0, len(msgs))
	for _, m := range msgs {
		d := bot.Delivery{Channel: ch, Shard: shard, Entry: m.ID}
		raw, _ := m.Values["m"].(string)
		if err := json.Unmarshal([]byte(raw), &d.Outbound); err != nil {
			q.s.log.Error("unreadable delivery entry moved to the failure record", "shard", shard, "entry", m.ID, "err", err)
			f := bot.DeliveryFailure{Failure: "unreadable", Detail: err.Error(), At: time.Now()}
			if err := q.Fail(ctx, d, f); err != nil {
				q.s.log.Error("recording an unreadable delivery entry failed", "entry", m.ID, "err", err)
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

var doneScript = redis.NewScript(`
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if KEYS[2] then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'f', ARGV[3])
end
return 1
`)

// Done acknowledges and deletes a sent entry.
func (q *Delivery) Done(ctx context.Context, d bot.Delivery) error {
	err := doneScript.Run(ctx, q.s.c, []string{q.s.OutboundStream(d.Shard, d.Channel)}, DeliveryGroup, d.Entry).Err()
	if err != nil {
		return fmt.Errorf("finish delivery %s: %w", d.Entry, err)
	}
	return nil
}

// Fail moves an entry to <p>:{sNN}:failed:<channel> (a stream of JSON DeliveryFailure,
// about FailedMax long) in the same step that removes it from the queue.
func (q *Delivery) Fail(ctx context.Context, d bot.Delivery, f bot.DeliveryFailure) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode delivery failure: %w", err)
	}
	keys := []string{q.s.OutboundStream(d.Shard, d.Channel), q.failedKey(d.Channel, d.Shard)}
	if err := doneScript.Run(ctx, q.s.c, keys, DeliveryGroup, d.Entry, raw, FailedMax).Err(); err != nil {
		return fmt.Errorf("record failed delivery %s: %w", d.Entry, err)
	}
	return nil
}

// Failures returns up to n of the newest failure records of a channel, from every shard.
func (q *Delivery) Failures(ctx context.Context, ch bot.Channel, n int) ([]bot.DeliveryFailure, error) {
	pipe := q.s.c.Pipeline()
	cmds := make([]*redis.XMessageSliceCmd, Shards)
	for sh := range Shards {
		cmds[sh] = pipe.XRevRangeN(ctx, q.failedKey(ch, sh), "+", "-", int64(n))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read delivery failures: %w", err)
	}
	var out []bot.DeliveryFailure
	for _, c := range cmds {
		for _, m := range c.Val() {
			var f bot.DeliveryFailure
			raw, _ := m.Values["f"].(string)
			if json.Unmarshal([]byte(raw), &f) == nil {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. now)
  redis.call('PEXPIRE', KEYS[1], math.floor(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + window - now + 1
`)

// Reserve is a sliding-window limit on <p>:rl:<key> (a sorted set of the sends of the
// last window, in the server's clock, expiring a second after the window): exact, so
// no window ever carries more than limit sends, whichever process sent them.
func (q *Delivery) Reserve(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error) {
	micros, err := reserveScript.Run(ctx, q.s.c, []string{q.s.prefix + ":rl:" + key},
		limit, window.Microseconds(), newToken()).Int64()
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	return time.Duration(micros) * time.Microsecond, nil
}
