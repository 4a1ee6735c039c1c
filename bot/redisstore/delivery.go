package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// DeliveryGroup is the consumer group that reads every channel's delivery queue.
const DeliveryGroup = "delivery"

// FailedMax bounds each shard's record of undeliverable replies (the oldest go first):
// the record is for operators to look into, the citizen's text is in the transcript.
const FailedMax = 10000

// Delivery is the Redis delivery queue over the streams Store.Commit fills, and the
// shared rate limiter (bot.RateLimiter). Sender opens one process's view of a channel's
// queue (bot.DeliveryQueue).
//
// Each channel's queue has Shards shards (a conversation's replies are all in its
// shard), and who sends a shard's replies is a Lease (<p>:{sNN}:lease:out:<channel>).
// Delivery remembers the leases its consumers hold, and each entry read carries the
// lease it was read under, so that done and fail refuse it (ErrLeaseLost) once the
// shard is someone else's.
type Delivery struct {
	s      *Store
	lane   string // "out" (replies) or "bulk": the middle of the lane's key names
	mu     sync.Mutex
	groups map[string]bool
	held   map[shardOf]*shardHold
}

// shardOf names one consumer's claim on one shard of one channel.
type shardOf struct {
	ch       bot.Channel
	shard    int
	consumer string
}

// shardHold is a shard lease a consumer holds, and where its reading stands: first
// the entries read but never finished under earlier leases (reclaim, from cursor),
// then new ones.
type shardHold struct {
	lease      Lease
	cursor     string
	reclaiming bool
}

var _ bot.RateLimiter = (*Delivery)(nil)

// Delivery returns the store's delivery queue of replies, the lane Commit fills.
func (s *Store) Delivery() *Delivery { return s.lane("out") }

// Bulk returns the store's delivery queue of bulk messages (broadcasts, reminders),
// the lane QueueBulk fills. Its shards have leases and senders of their own, so a
// process may send a chat's bulk while another sends its replies.
func (s *Store) Bulk() *Delivery { return s.lane("bulk") }

func (s *Store) lane(name string) *Delivery {
	return &Delivery{s: s, lane: name, groups: map[string]bool{}, held: map[shardOf]*shardHold{}}
}

// stream is the lane's queue in a shard: OutboundStream for replies, BulkStream for bulk.
func (q *Delivery) stream(shard int, ch bot.Channel) string {
	return q.s.prefix + ":" + tag(shard) + ":" + q.lane + ":" + string(ch)
}

func (q *Delivery) leaseKey(ch bot.Channel, shard int) string {
	return q.s.prefix + ":" + tag(shard) + ":lease:" + q.lane + ":" + string(ch)
}

func (q *Delivery) failedKey(ch bot.Channel, shard int) string {
	return q.s.prefix + ":" + tag(shard) + ":failed:" + string(ch)
}

func (q *Delivery) membersKey(ch bot.Channel) string {
	return q.s.prefix + ":members:" + q.lane + ":" + string(ch)
}

var heartbeatScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return redis.call('ZCARD', KEYS[1])
`)

// heartbeat records the consumer in <p>:members:out:<channel> (a sorted set of last
// beats, kept for twice ttl) and counts those heard from within ttl.
func (q *Delivery) heartbeat(ctx context.Context, ch bot.Channel, consumer string, ttl time.Duration) (int, error) {
	n, err := heartbeatScript.Run(ctx, q.s.c, []string{q.membersKey(ch)}, consumer, millis(ttl)).Int()
	if err != nil {
		return 0, fmt.Errorf("delivery heartbeat: %w", err)
	}
	return n, nil
}

// leave takes the consumer out of the live senders at once (a clean stop), so that the
// others count it gone without waiting for its last beat to age.
func (q *Delivery) leave(ctx context.Context, ch bot.Channel, consumer string) error {
	if err := q.s.c.ZRem(ctx, q.membersKey(ch), consumer).Err(); err != nil {
		return fmt.Errorf("leave delivery members: %w", err)
	}
	return nil
}

// own claims the shard's lease for the consumer, or renews the one it holds, for ttl
// (at most MaxLeasePeriod), and makes sure the shard's consumer group exists. It
// reports false when another consumer holds the shard, or when the consumer's own
// lease ran out since its last renewal: the shard must then be claimed afresh.
func (q *Delivery) own(ctx context.Context, ch bot.Channel, shard int, consumer string, ttl time.Duration) (bool, error) {
	k := shardOf{ch, shard, consumer}
	q.mu.Lock()
	h := q.held[k]
	q.mu.Unlock()
	if h != nil {
		ok, err := renewLease(ctx, q.s.c, h.lease, ttl)
		if err != nil {
			return false, fmt.Errorf("renew delivery shard %d: %w", shard, err)
		}
		if !ok {
			q.forget(k, h)
			return false, nil
		}
		return true, q.ensureGroup(ctx, ch, shard)
	}
	l, ok, err := claimLease(ctx, q.s.c, q.leaseKey(ch, shard), consumer, ttl)
	if err != nil {
		return false, fmt.Errorf("own delivery shard %d: %w", shard, err)
	}
	if !ok {
		return false, nil
	}
	q.mu.Lock()
	q.held[k] = &shardHold{lease: l, cursor: "0-0", reclaiming: true}
	q.mu.Unlock()
	if err := q.ensureGroup(ctx, ch, shard); err != nil {
		return true, err
	}
	return true, nil
}

// disown gives the shard's lease back at once if the consumer holds it.
func (q *Delivery) disown(ctx context.Context, ch bot.Channel, shard int, consumer string) error {
	k := shardOf{ch, shard, consumer}
	q.mu.Lock()
	h := q.held[k]
	q.mu.Unlock()
	if h == nil {
		return nil
	}
	if err := releaseLease(ctx, q.s.c, h.lease); err != nil {
		return fmt.Errorf("disown delivery shard %d: %w", shard, err)
	}
	q.forget(k, h)
	return nil
}

// fence is the token of the lease the consumer holds on the shard, if it holds one.
func (q *Delivery) fence(ch bot.Channel, shard int, consumer string) (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	h := q.held[shardOf{ch, shard, consumer}]
	if h == nil {
		return "", false
	}
	return h.lease.Token, true
}

// forget drops a lease the consumer no longer holds, unless it claimed anew meanwhile.
func (q *Delivery) forget(k shardOf, h *shardHold) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.held[k] == h {
		delete(q.held, k)
	}
}

func (q *Delivery) ensureGroup(ctx context.Context, ch bot.Channel, shard int) error {
	stream := q.stream(shard, ch)
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

// read returns up to n entries of a shard the consumer holds, in queue order: first,
// after each new claim of the shard, those read but never finished under earlier
// leases (by a consumer that died or gave the shard up), then new ones.
func (q *Delivery) read(ctx context.Context, ch bot.Channel, shard int, consumer string, n int) ([]bot.Delivery, error) {
	k := shardOf{ch, shard, consumer}
	q.mu.Lock()
	h := q.held[k]
	var cursor string
	var reclaiming bool
	var lease Lease
	if h != nil {
		cursor, reclaiming, lease = h.cursor, h.reclaiming, h.lease
	}
	q.mu.Unlock()
	if h == nil {
		return nil, fmt.Errorf("read delivery shard %d: %w", shard, ErrLeaseLost)
	}
	if reclaiming {
		out, next, err := q.reclaim(ctx, ch, shard, consumer, cursor, n, lease)
		q.mu.Lock()
		if err == nil && q.held[k] == h {
			h.cursor, h.reclaiming = next, next != "0-0"
		}
		q.mu.Unlock()
		if err != nil || len(out) > 0 || next != "0-0" {
			return out, err
		}
		// Nothing was left unfinished: go on to the new entries.
	}
	res, err := q.s.c.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: DeliveryGroup, Consumer: consumer,
		Streams: []string{q.stream(shard, ch), ">"}, Count: int64(n), Block: -1,
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
		out = append(out, q.decode(ctx, ch, shard, st.Messages, lease)...)
	}
	return out, nil
}

// readMany reads up to n entries from each of shards, as read does, with the new
// entries of every shard not reclaiming read in one round trip. It returns what each
// shard gave and how each failed, in the order of shards.
func (q *Delivery) readMany(ctx context.Context, ch bot.Channel, consumer string, shards []int, n int) ([][]bot.Delivery, []error) {
	out, errs := make([][]bot.Delivery, len(shards)), make([]error, len(shards))
	leases := make([]Lease, len(shards))
	var plain []int // indexes of shards whose new entries are read together
	for i, sh := range shards {
		q.mu.Lock()
		h := q.held[shardOf{ch, sh, consumer}]
		var reclaiming bool
		if h != nil {
			reclaiming, leases[i] = h.reclaiming, h.lease
		}
		q.mu.Unlock()
		switch {
		case h == nil:
			errs[i] = fmt.Errorf("read delivery shard %d: %w", sh, ErrLeaseLost)
		case reclaiming:
			out[i], errs[i] = q.read(ctx, ch, sh, consumer, n)
		default:
			plain = append(plain, i)
		}
	}
	if len(plain) == 0 {
		return out, errs
	}
	// Each shard's stream, named once: a read answers for many shards at once.
	names := make([]string, len(shards))
	for _, i := range plain {
		names[i] = q.stream(shards[i], ch)
	}
	got := func(i int, res []redis.XStream, err error) {
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			q.forgetGroup(ch, shards[i], err)
			errs[i] = fmt.Errorf("read delivery shard %d: %w", shards[i], err)
		default:
			for _, st := range res {
				if st.Stream == names[i] {
					out[i] = append(out[i], q.decode(ctx, ch, shards[i], st.Messages, leases[i])...)
				}
			}
		}
	}
	if _, cluster := q.s.c.(*redis.ClusterClient); !cluster {
		// One server holds every shard: one XREADGROUP reads them all. Its error (a
		// NOGROUP names no stream) is every shard's: the next own makes the groups again.
		streams := make([]string, 0, 2*len(plain))
		for _, i := range plain {
			streams = append(streams, names[i])
		}
		for range plain {
			streams = append(streams, ">")
		}
		res, err := q.s.c.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: DeliveryGroup, Consumer: consumer, Streams: streams, Count: int64(n), Block: -1,
		}).Result()
		for _, i := range plain {
			got(i, res, err)
		}
		return out, errs
	}
	// A cluster: one command per shard, in one pipeline (go-redis sends each to its node).
	pipe := q.s.c.Pipeline()
	cmds := make([]*redis.XStreamSliceCmd, len(plain))
	for k, i := range plain {
		cmds[k] = pipe.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: DeliveryGroup, Consumer: consumer,
			Streams: []string{names[i], ">"}, Count: int64(n), Block: -1,
		})
	}
	_, _ = pipe.Exec(ctx) // each command's own error is looked at below
	for k, i := range plain {
		res, err := cmds[k].Result()
		got(i, res, err)
	}
	return out, errs
}

// reclaim takes over the entries read but never finished, oldest first, from cursor.
func (q *Delivery) reclaim(ctx context.Context, ch bot.Channel, shard int, consumer, cursor string, n int, lease Lease) ([]bot.Delivery, string, error) {
	msgs, next, err := q.s.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: q.stream(shard, ch), Group: DeliveryGroup, Consumer: consumer,
		Start: cursor, Count: int64(n),
	}).Result()
	if err != nil {
		q.forgetGroup(ch, shard, err)
		return nil, cursor, fmt.Errorf("reclaim delivery shard %d: %w", shard, err)
	}
	return q.decode(ctx, ch, shard, msgs, lease), next, nil
}

// forgetGroup makes the next Own create the group again after the stream vanished.
func (q *Delivery) forgetGroup(ch bot.Channel, shard int, err error) {
	if isNoGroup(err) {
		q.mu.Lock()
		delete(q.groups, q.stream(shard, ch))
		q.mu.Unlock()
	}
}

// decode turns stream entries into deliveries read under lease. An entry that cannot
// be read is moved to the failure record at once, so it does not block the queue.
func (q *Delivery) decode(ctx context.Context, ch bot.Channel, shard int, msgs []redis.XMessage, lease Lease) []bot.Delivery {
	out := make([]bot.Delivery, 0, len(msgs))
	for _, m := range msgs {
		d := bot.Delivery{Channel: ch, Entry: deliveryEntry(shard, m.ID), Fence: lease.Token, QueuedAt: streamTime(m.ID)}
		raw, _ := m.Values["m"].(string)
		if err := json.Unmarshal([]byte(raw), &d.Outbound); err != nil {
			q.s.log.Error("unreadable delivery entry moved to the failure record", "shard", shard, "entry", m.ID, "err", err)
			f := bot.DeliveryFailure{Failure: "unreadable", Detail: err.Error(), At: time.Now()}
			if err := q.fail(ctx, d, f); err != nil {
				q.s.log.Error("recording an unreadable delivery entry failed", "entry", m.ID, "err", err)
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

// streamTime is when a stream entry was written, read from its id ("<ms>-<seq>").
func streamTime(id string) time.Time {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// doneScript finishes an entry, fenced by the shard's lease: a consumer that lost the
// shard cannot finish what the new owner is about to send. A tracked reply's state
// goes to the conversation's delivery hash in the same step, and the consoles are told
// that the conversation changed.
//
// A broadcast's message is counted sent or failed in the broadcast's shard hash.
//
// KEYS: lease, stream, failed, the conversation's dlv, the broadcast's shard hash.
// ARGV: token, group, entry id, failure JSON ("" = sent), maxlen, state JSON ("" =
// not tracked), outbound id, the hash's ttl, the desk's channel, the conversation's
// key, the broadcast's count to add to ("sent", "failed", "gone"; "" = not a
// broadcast's).
var doneScript = redis.NewScript(`
if not (` + leaseHeld + `) then
  return 0
end
redis.call('XACK', KEYS[2], ARGV[2], ARGV[3])
redis.call('XDEL', KEYS[2], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'f', ARGV[4])
end
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[4], ARGV[7], ARGV[6])
  redis.call('PEXPIRE', KEYS[4], ARGV[8])
  redis.call('PUBLISH', ARGV[9], ARGV[10])
end
if ARGV[11] ~= '' and redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('HINCRBY', KEYS[5], ARGV[11], 1)
end
return 1
`)

// done acknowledges and deletes a sent entry; ErrLeaseLost when the shard's lease it
// was read under is lost.
func (q *Delivery) done(ctx context.Context, d bot.Delivery) error {
	return q.finish(ctx, d, nil)
}

// Deliveries returns what became of the conversation's tracked replies, by outbound
// id; a tracked reply not in it is still queued (or older than the transcript).
func (s *Store) Deliveries(ctx context.Context, conv bot.ConversationRef) (map[string]bot.DeliveryState, error) {
	raw, err := s.c.HGetAll(ctx, s.keys(conv).dlv).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: deliveries of %s: %w", bot.MaskID(conv.Key()), err)
	}
	out := make(map[string]bot.DeliveryState, len(raw))
	for id, v := range raw {
		var st bot.DeliveryState
		if err := json.Unmarshal([]byte(v), &st); err != nil {
			s.log.Error("unreadable delivery state", "reply", id, "err", err)
			continue
		}
		out[id] = st
	}
	return out, nil
}

// fail moves an entry to <p>:{sNN}:failed:<channel> (a stream of JSON DeliveryFailure,
// about FailedMax long) in the same step that removes it from the queue, fenced as
// done is.
func (q *Delivery) fail(ctx context.Context, d bot.Delivery, f bot.DeliveryFailure) error {
	return q.finish(ctx, d, &f)
}

// finish removes an entry from the queue, records f when it is not nil, and keeps
// what became of a tracked reply.
func (q *Delivery) finish(ctx context.Context, d bot.Delivery, f *bot.DeliveryFailure) error {
	shard, id, err := parseDeliveryEntry(d.Entry)
	if err != nil {
		return err
	}
	what := "finish delivery"
	var failure, state []byte
	st := bot.DeliveryState{State: bot.DeliverySent, At: time.Now()}
	if f != nil && f.Skip == "" {
		what = "record failed delivery"
		if failure, err = json.Marshal(f); err != nil {
			return fmt.Errorf("encode delivery failure: %w", err)
		}
	}
	if f != nil {
		st = bot.DeliveryState{State: bot.DeliveryFailed, Failure: f.Failure, Detail: f.Detail, At: f.At}
	}
	if d.Outbound.Track {
		if state, err = json.Marshal(st); err != nil {
			return fmt.Errorf("encode delivery state: %w", err)
		}
	}
	conv := d.Outbound.Conversation
	// The entry's shard is its conversation's (convKeys.dlv); named from the entry, so
	// that an unreadable entry, which has no conversation, stays in the script's slot.
	counted, bc := "", "-"
	if d.Outbound.Broadcast != "" {
		counted, bc = "sent", d.Outbound.Broadcast
		switch {
		case f != nil && f.Skip != "":
			counted = "skip:" + f.Skip // not a failure to look into, nor kept as one
		case f != nil:
			counted = "failed"
		}
	}
	keys := []string{q.leaseKey(d.Channel, shard), q.stream(shard, d.Channel), q.failedKey(d.Channel, shard),
		q.s.prefix + ":" + tag(shard) + ":dlv:" + conv.Key(), q.s.broadcastShard(bc, shard)}
	args := []any{d.Fence, DeliveryGroup, id, failure, FailedMax, state, d.Outbound.ID,
		millis(q.s.o.TranscriptTTL), q.s.deskChannel(), conv.Key(), counted}
	ok, err := q.s.pipe.run(ctx, doneScript, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, d.Entry, err)
	}
	if ok == 0 {
		return fmt.Errorf("%s %s: %w: %w", what, d.Entry, ErrLeaseLost, bot.ErrClaimLost)
	}
	return nil
}

// deliveryEntry names a queued reply: its shard and its stream id, "7/1718000000000-0".
func deliveryEntry(shard int, id string) string { return strconv.Itoa(shard) + "/" + id }

// parseDeliveryEntry reads what deliveryEntry wrote.
func parseDeliveryEntry(entry string) (int, string, error) {
	sh, id, ok := strings.Cut(entry, "/")
	n, err := strconv.Atoi(sh)
	if !ok || err != nil || n < 0 || n >= Shards || id == "" {
		return 0, "", fmt.Errorf("bad delivery entry %q", entry)
	}
	return n, id, nil
}

// QueueBulk puts bulk messages in their conversations' shards of the bulk lane, in
// order, in one pipeline. Each message is queued as given: a caller that may run twice
// (a broadcast resumed after a crash) keeps its own record of what it queued.
func (s *Store) QueueBulk(ctx context.Context, msgs []bot.Outbound) error {
	if len(msgs) == 0 {
		return nil
	}
	pipe := s.c.Pipeline()
	for _, o := range msgs {
		raw, err := json.Marshal(o)
		if err != nil {
			return fmt.Errorf("encode bulk message %s: %w", o.ID, err)
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: s.BulkStream(ShardOf(o.Conversation), o.Conversation.Channel), Values: []any{"m", raw}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("queue bulk messages: %w", err)
	}
	for _, o := range msgs {
		s.wakes.signal("bulk", o.Conversation.Channel, ShardOf(o.Conversation))
	}
	return nil
}

// wakes are the wakeups of each lane and channel.
type wakes map[wakeKey]*wakeup

type wakeKey struct {
	lane string
	ch   bot.Channel
}

func newWakes() wakes {
	w := wakes{{"outbox", ""}: &wakeup{}} // the intake's workers (Claim), of every channel
	for _, lane := range []string{"out", "bulk"} {
		for _, ch := range bot.AudienceChannels() {
			w[wakeKey{lane, ch}] = &wakeup{}
		}
	}
	return w
}

// of is the wakeup of a lane's senders of ch; a channel with none has a wakeup
// nobody waits on.
func (w wakes) of(lane string, ch bot.Channel) *wakeup {
	if u := w[wakeKey{lane, ch}]; u != nil {
		return u
	}
	return &wakeup{}
}

// signal wakes the lane's senders of ch for a message queued in shard (signalling
// twice costs nothing: the first one closed the channel they wait on).
func (w wakes) signal(lane string, ch bot.Channel, shard int) { w.of(lane, ch).signal(shard) }

// wakeup lets waiting senders know that messages were queued, and in which shards: a
// sender woken reads those, not every shard it holds (sender.Claim).
type wakeup struct {
	mu     sync.Mutex
	ch     chan struct{}
	shards shardSet // signalled since the last take
}

// shardSet is a set of shards, one bit each.
type shardSet uint64

// A shardSet holds every shard.
var _ = [64 - Shards]struct{}{}

func (s shardSet) has(shard int) bool { return s&(1<<shard) != 0 }

func (s *shardSet) add(shard int) { *s |= 1 << shard }

// shardLook is what a reader of shards keeps between reads: when it last read every
// shard, and the shards to read at the next one (signalled since, or left with more
// than a read had room for). The reader's own lock guards it.
type shardLook struct {
	all  time.Time
	more shardSet
}

// next is what to read now: every shard (every true) once after has passed since the
// last time, else the shards signalled and those kept, which it forgets.
func (l *shardLook) next(signalled shardSet, after time.Duration) (want shardSet, every bool) {
	want = signalled | l.more
	l.more = 0
	if now := time.Now(); now.Sub(l.all) >= after {
		l.all = now
		return want, true
	}
	return want, false
}

// list is the set's shards in order.
func (s shardSet) list() []int {
	var out []int
	for sh := range Shards {
		if s.has(sh) {
			out = append(out, sh)
		}
	}
	return out
}

// take returns the shards signalled since the last take, and forgets them.
func (w *wakeup) take() shardSet {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.shards
	w.shards = 0
	return s
}

// wait returns a channel closed at the next signal.
func (w *wakeup) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

func (w *wakeup) signal(shard int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.shards.add(shard)
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
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
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then
  return paused * 1000
end
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

// Reserve is a sliding-window limit on <p>:rl:{<key>} (a sorted set of the sends of the
// last window, in the server's clock, expiring a second after the window): exact, so
// no window ever carries more than limit sends, whichever process sent them. While
// the limit is paused (Pause) nothing is counted, and the wait is the pause's rest.
func (q *Delivery) Reserve(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error) {
	micros, err := reserveScript.Run(ctx, q.s.c, q.rateKeys(key),
		limit, window.Microseconds(), newToken()).Int64()
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	return time.Duration(micros) * time.Microsecond, nil
}

// rateKeys are a limit's window and its pause, in one hash-tag slot.
func (q *Delivery) rateKeys(key string) []string {
	k := q.s.prefix + ":rl:{" + key + "}"
	return []string{k, k + ":pause"}
}

// pauseScript holds a limit until ARGV[1] ms from now, unless it is held longer already.
var pauseScript = redis.NewScript(`
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
end
return 1
`)

// Pause holds every send under key for d, in every process (bot.RatePauser): <p>:rl:{<key>}:pause.
func (q *Delivery) Pause(ctx context.Context, key string, d time.Duration) error {
	if err := pauseScript.Run(ctx, q.s.c, q.rateKeys(key), max(d.Milliseconds(), 1)).Err(); err != nil {
		return fmt.Errorf("pause rate limit %s: %w", key, err)
	}
	return nil
}

// TakeQueued removes and returns, in order, the replies queued for conv, for a channel
// that has no sender of its own and shows them itself when the citizen is there (the
// terminal shows the news that came while the citizen was away). Only conv's replies
// are taken; the shard's other conversations keep theirs.
func (s *Store) TakeQueued(ctx context.Context, conv bot.ConversationRef) ([]bot.Outbound, error) {
	stream := s.OutboundStream(ShardOf(conv), conv.Channel)
	msgs, err := s.c.XRange(ctx, stream, "-", "+").Result()
	if err != nil {
		return nil, fmt.Errorf("read queued replies: %w", err)
	}
	var out []bot.Outbound
	var ids []string
	for _, m := range msgs {
		var o bot.Outbound
		raw, _ := m.Values["m"].(string)
		if json.Unmarshal([]byte(raw), &o) != nil || o.Conversation != conv {
			continue
		}
		out, ids = append(out, o), append(ids, m.ID)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if err := s.c.XDel(ctx, stream, ids...).Err(); err != nil {
		return nil, fmt.Errorf("remove queued replies: %w", err)
	}
	return out, nil
}
