package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// AlbumTTL is how long an album's parts are kept after its last part arrived. An album
// the engine could not take within it (Redis or the engine failing that long) is
// dropped; the sweeper that finds it gone logs an error. The parts handed over stay as
// empty markers for the same time, so a part Telegram delivers again is not run again.
const AlbumTTL = time.Hour

// Albums gathers the parts of albums (Telegram sends each photo of a media group as its
// own update, with nothing saying how many will come) until a sweeper in any gateway
// process hands the album to the engine as one event. It implements
// telegram.AlbumStore: parts received by different processes make one album, and an
// album outlives the process that received its parts.
//
// Keys, in the conversation's shard so that each step is one script on a cluster too:
//
//	<p>:{sNN}:album:<conv>:<group>  hash: field the part id (update_id), value the part;
//	                                "" once handed over. TTL AlbumTTL from the last part.
//	<p>:{sNN}:albums:due            zset: member an album's hash key, score the unix ms
//	                                when it is due, or when a claim's lease ends.
//	<p>:{sNN}:lease:album:<conv>:<group>  the Lease of the album's claimer: Done is
//	                                fenced by it.
//
// The due set schedules, in the sweepers' clock, when an album may be claimed (again);
// the claim itself is a Lease, taken over by whoever the schedule hands the album to
// next, so a claimer whose lease ended cannot mark done an album another one took.
//
// An album is named by its hash key (Due returns such names; Parts and Done take them).
type Albums struct {
	c      redis.UniversalClient
	prefix string
	ttl    time.Duration
	holder string

	mu   sync.Mutex
	held map[string]albumClaim // by album, the claims of this gatherer
}

type albumClaim struct {
	lease Lease
	at    time.Time
}

// Albums returns the store's album gatherer, one per sweeping process.
func (s *Store) Albums() *Albums {
	return &Albums{c: s.c, prefix: s.prefix, ttl: AlbumTTL, holder: "albums-" + newToken()[:8], held: map[string]albumClaim{}}
}

func (a *Albums) dueKey(shard int) string { return a.prefix + ":" + tag(shard) + ":albums:due" }

// albumAddScript stores a part unless its id is known, and schedules the album. ZADD GT:
// each new part moves the album to its own ready time, never earlier, so an album is
// due once no part came for a window; an album holds at most ten parts, so that cannot
// postpone it for long. GT also leaves a claim's lease in place.
//
// KEYS: album, due. ARGV: part id, part, ttl (ms), ready (unix ms).
var albumAddScript = redis.NewScript(`
local fresh = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
if fresh == 1 then
  redis.call('ZADD', KEYS[2], 'GT', ARGV[4], KEYS[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return fresh
`)

// Add stores one part of album group of conv under its id, to be due at ready (or
// later, when a later part asks so). A part whose id is stored already, waiting or
// handed over, is not stored again.
func (a *Albums) Add(ctx context.Context, conv bot.ConversationRef, group string, part int64, data []byte, ready time.Time) error {
	if err := conv.Validate(); err != nil {
		return fmt.Errorf("album add: %w", err)
	}
	if group == "" || len(data) == 0 {
		return errors.New("album add: a group and a non-empty part are required")
	}
	shard := ShardOf(conv)
	key := a.prefix + ":" + tag(shard) + ":album:" + conv.Key() + ":" + group
	err := albumAddScript.Run(ctx, a.c, []string{key, a.dueKey(shard)},
		part, data, millis(a.ttl), ready.UnixMilli()).Err()
	if err != nil {
		return fmt.Errorf("album add: %w", err)
	}
	return nil
}

// albumClaimScript takes the shard's due albums for a lease.
//
// KEYS: due. ARGV: now (unix ms), lease end (unix ms), n.
var albumClaimScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], m)
end
return due
`)

// Due claims up to n albums due at now: no other Due returns them before now+lease.
// Whoever claimed an album hands it over and calls Done; one that dies before leaves
// the album to be claimed again once the lease ends.
//
// One pipeline counts the due albums of every shard; only shards that have some are
// claimed from, a script each.
func (a *Albums) Due(ctx context.Context, now time.Time, lease time.Duration, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	nowMs := now.UnixMilli()
	pipe := a.c.Pipeline()
	counts := make([]*redis.IntCmd, Shards)
	for sh := range Shards {
		counts[sh] = pipe.ZCount(ctx, a.dueKey(sh), "-inf", strconv.FormatInt(nowMs, 10))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("albums due: %w", err)
	}
	var out []string
	start := rand.IntN(Shards) // no shard waits behind the others when n is reached
	for i := range Shards {
		sh := (start + i) % Shards
		if counts[sh].Val() == 0 {
			continue
		}
		got, err := albumClaimScript.Run(ctx, a.c, []string{a.dueKey(sh)},
			nowMs, nowMs+lease.Milliseconds(), n-len(out)).StringSlice()
		if err != nil {
			return out, fmt.Errorf("albums due: claim: %w", err)
		}
		if err := a.lease(ctx, sh, got, lease); err != nil {
			// Claimed in the due set but not leased: they come back when the lease ends.
			return out, fmt.Errorf("albums due: %w", err)
		}
		if out = append(out, got...); len(out) >= n {
			break
		}
	}
	return out, nil
}

// lease takes the claims of albums the due set just handed to this gatherer.
func (a *Albums) lease(ctx context.Context, shard int, albums []string, lease time.Duration) error {
	keys := make([]string, len(albums))
	for i, album := range albums {
		keys[i] = a.leaseKey(shard, album)
	}
	leases, err := takeLeases(ctx, a.c, keys, a.holder, lease)
	if err != nil {
		return err
	}
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for album, c := range a.held {
		if now.Sub(c.at) > AlbumTTL { // never done here: another process took it over
			delete(a.held, album)
		}
	}
	for i, album := range albums {
		a.held[album] = albumClaim{lease: leases[i], at: now}
	}
	return nil
}

// leaseKey is the album's lease: "<p>:{sNN}:lease:album:<conv>:<group>" for the album
// "<p>:{sNN}:album:<conv>:<group>".
func (a *Albums) leaseKey(shard int, album string) string {
	base := a.prefix + ":" + tag(shard) + ":"
	return base + "lease:" + strings.TrimPrefix(album, base)
}

// Parts returns the album's parts not handed over yet, by part id. found is false when
// the album is gone: never stored, or kept past AlbumTTL. An album found with no parts
// was handed over already (by another process whose lease ran out meanwhile).
func (a *Albums) Parts(ctx context.Context, album string) (parts map[int64][]byte, found bool, err error) {
	if _, err := a.shardOf(album); err != nil {
		return nil, false, err
	}
	all, err := a.c.HGetAll(ctx, album).Result()
	if err != nil {
		return nil, false, fmt.Errorf("album parts: %w", err)
	}
	if len(all) == 0 {
		return nil, false, nil
	}
	parts = map[int64][]byte{}
	for field, v := range all {
		id, err := strconv.ParseInt(field, 10, 64)
		if err != nil || v == "" { // Add writes only numeric ids; "" is handed over
			continue
		}
		parts[id] = []byte(v)
	}
	return parts, true, nil
}

// albumDoneScript, under the album's lease, marks parts handed over and takes the
// album off the due set, unless a part arrived meanwhile: then the album is due again
// at once, with that part alone. Either way the lease is given back. Parts of an album
// that expired are not written back (the key would have no TTL).
//
// KEYS: lease, album, due. ARGV: token, now (unix ms), then the part ids.
var albumDoneScript = redis.NewScript(`
if not (` + leaseHeld + `) then
  return -1
end
redis.call('DEL', KEYS[1])
for i = 3, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i], '')
  end
end
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do
  if v ~= '' then
    redis.call('ZADD', KEYS[3], ARGV[2], KEYS[2])
    return 1
  end
end
redis.call('ZREM', KEYS[3], KEYS[2])
return 0
`)

// Done records that the engine took parts of the album (all those Parts returned). It
// returns ErrLeaseLost, and changes nothing, when this gatherer's claim on the album
// ended and another took it over.
func (a *Albums) Done(ctx context.Context, album string, parts []int64) error {
	shard, err := a.shardOf(album)
	if err != nil {
		return err
	}
	a.mu.Lock()
	l := a.held[album].lease
	delete(a.held, album)
	a.mu.Unlock()
	args := make([]any, 0, len(parts)+2)
	args = append(args, l.Token, time.Now().UnixMilli())
	for _, p := range parts {
		args = append(args, p)
	}
	keys := []string{a.leaseKey(shard, album), album, a.dueKey(shard)}
	r, err := albumDoneScript.Run(ctx, a.c, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("album done: %w", err)
	}
	if r < 0 {
		return fmt.Errorf("album done: %w", ErrLeaseLost)
	}
	return nil
}

// shardOf reads the shard out of an album's name, "<p>:{sNN}:album:…".
func (a *Albums) shardOf(album string) (int, error) {
	rest, ok := strings.CutPrefix(album, a.prefix+":{s")
	if ok && len(rest) > 3 && rest[2] == '}' && strings.HasPrefix(rest[3:], ":album:") {
		if sh, err := strconv.Atoi(rest[:2]); err == nil && sh >= 0 && sh < Shards {
			return sh, nil
		}
	}
	// The name holds a chat id: it stays out of the error, which may be logged.
	return 0, errors.New("album: not the name of an album of this store")
}
