package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
)

// Defaults for the zero fields of Options.
const (
	DefaultPrefix        = "sk"
	DefaultDraftTTL      = 30 * 24 * time.Hour
	DefaultProfileTTL    = 400 * 24 * time.Hour
	DefaultTranscriptTTL = 90 * 24 * time.Hour
	DefaultDedupeTTL     = 24 * time.Hour
	// DefaultOutboxPoll: every shard's outbox looked at twice a second by a waiting
	// Claim (outbox.go).
	DefaultOutboxPoll = 500 * time.Millisecond
)

// TranscriptMax is how many entries a conversation's transcript keeps (the newest).
const TranscriptMax = 1000

// Options configures a Store. Zero fields take the defaults above.
type Options struct {
	// Prefix starts every key; tests give each test its own.
	Prefix        string
	DraftTTL      time.Duration
	ProfileTTL    time.Duration
	TranscriptTTL time.Duration
	DedupeTTL     time.Duration
	// StatsTTL keeps a day's report counters (DefaultStatsTTL, 400 days).
	StatsTTL time.Duration
	// Logger receives the store's rare complaints (an outbox entry it cannot read);
	// nil means slog.Default(). Entries are named by id, never by content.
	Logger *slog.Logger
	// Outbox names the outbox this store's commits fill and its workers claim from:
	// "" is the gateway's, and `sangkien chat` uses "chat", so that a chat beside a
	// gateway on one Redis delivers only what it made, and the gateway only what it
	// made (<p>:{sNN}:outbox:chat and its leases).
	Outbox string
	// OutboxPoll is how often a waiting Claim looks at every shard of the outbox
	// (DefaultOutboxPoll): for submissions other processes committed, entries due
	// again after Postpone, and a dead worker's. A submission this store commits wakes
	// its waiting Claims at once, and they read just its shard. Each look is a pipeline
	// of 32 scripts (blocking reads would need a connection a shard): at 75 ms, as it
	// was before the wakeup, an idle gateway ran some 430 of them a second on Redis.
	OutboxPoll time.Duration
	// LegacyFormat writes sessions and transcript lines in the forms versions before
	// the compact ones read, and, besides the dedupe set, the marker they check (a key
	// an event): for a rolling upgrade from such a version (upgrade.go).
	LegacyFormat bool
	// Phrases are texts that name nobody and that the bot says often (the catalog's
	// fixed texts, locales.Catalog.Phrases): a transcript line keeps a reference to a
	// phrase it uses instead of its words (transcript.go). Nil keeps every line whole.
	Phrases []string
}

// Store is the Redis implementation of bot.Store and bot.Outbox. It is safe for
// concurrent use; several processes may share one Redis.
type Store struct {
	c      redis.UniversalClient
	prefix string
	o      Options
	log    *slog.Logger
	claims claimState
	// pipe gathers the hot path's scripts of concurrent events into pipelines.
	pipe *autoPipe
	// phrases are Options.Phrases and their numbers in the registry (transcript.go).
	phrases *phrasebook
	// wakes, by lane ("out", "bulk") and channel, wake this process's senders when it
	// queued messages itself, so that they need not wait for their next poll: only the
	// channel's, for another channel's sender would read its shards for nothing. The
	// lane "outbox" (no channel) wakes the intake's Claims.
	wakes wakes
}

var (
	_ bot.Store    = (*Store)(nil)
	_ bot.Outboxes = (*Store)(nil)
)

// New returns a Store on c.
func New(c redis.UniversalClient, o Options) *Store {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.DraftTTL <= 0 {
		o.DraftTTL = DefaultDraftTTL
	}
	if o.ProfileTTL <= 0 {
		o.ProfileTTL = DefaultProfileTTL
	}
	if o.TranscriptTTL <= 0 {
		o.TranscriptTTL = DefaultTranscriptTTL
	}
	if o.DedupeTTL <= 0 {
		o.DedupeTTL = DefaultDedupeTTL
	}
	if o.StatsTTL <= 0 {
		o.StatsTTL = DefaultStatsTTL
	}
	if o.OutboxPoll <= 0 {
		o.OutboxPoll = DefaultOutboxPoll
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Store{
		c:       c,
		prefix:  o.Prefix,
		o:       o,
		log:     o.Logger.With("component", "redisstore"),
		claims:  claimState{spare: map[string][]spareItem{}, looks: map[string]*shardLook{}},
		pipe:    newAutoPipe(c),
		phrases: newPhrasebook(o.Prefix+":{phr}:txt", o.Phrases),
		wakes:   newWakes(),
	}
}

// beginScript takes the lock, then checks the dedupe set and the marker an older
// version would have written (dedupe.go), then loads the session. A duplicate gives
// the lock straight back: the lock was taken by this very script, so it is ours to
// delete.
//
// KEYS: lock, seen, prof, state, the event's legacy marker. ARGV: token, ttl (ms),
// event id.
var beginScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {'busy'}
end
if redis.call('ZSCORE', KEYS[2], ARGV[3]) or redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('DEL', KEYS[1])
  return {'dup'}
end
local v = redis.call('MGET', KEYS[3], KEYS[4])
return {'ok', v[1], v[2]}
`)

// Begin takes the conversation's lock, checks the event and loads the session in one
// round trip. See bot.Store.
func (s *Store) Begin(ctx context.Context, conv bot.ConversationRef, eventID string, ttl time.Duration) (*bot.Lease, error) {
	if err := conv.Validate(); err != nil {
		return nil, fmt.Errorf("redisstore: begin: %w", err)
	}
	if eventID == "" {
		return nil, errors.New("redisstore: begin: event id is required")
	}
	token := newToken()
	k := s.keys(conv)
	res, err := s.pipe.run(ctx, beginScript, []string{k.lock, k.seen, k.prof, k.state, k.legacySeen(eventID)}, token, millis(ttl), eventID).Slice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: begin: %w", err)
	}
	lease := &bot.Lease{Conversation: conv, EventID: eventID, Token: token}
	switch res[0] {
	case "busy":
		return nil, bot.ErrBusy
	case "dup":
		lease.Duplicate = true
		return lease, nil
	case "ok":
		lease.Session, err = decodeSession(conv, res[1], res[2])
		if err != nil {
			return nil, fmt.Errorf("redisstore: begin: %w", err)
		}
		return lease, nil
	}
	return nil, fmt.Errorf("redisstore: begin: unexpected script answer %v", res[0])
}

// commitScript writes one event's change if the lease still holds.
//
// KEYS: lock, seen, prof, state, tr, out, outbox, then the desk's (desk.go): card,
// waiting, open, resolved, of:<old assignee>, of:<new assignee>, then the reports' of
// the event's day (stats.go): counters, took, answers.
// ARGV: 1 token, 2 forget ("1"), 3 profile JSON ("" = keep), 4 profile ttl, 5 state JSON,
// 6 state ttl, 7 transcript ttl, 8 dedupe ttl, 9 transcript max, 10 n entries,
// 11 n replies, 12 submission JSON ("" = none), 13 submission id, 14 desk status
// ("" = no card change), 15 its index score, 16 activity score, 17 n card fields
// (names and values; an empty value deletes the field, which reads as empty), 18 the
// desk's pub/sub channel, 19 the event id, 20 "1" to write
// the event's legacy marker too (KEYS[17], dedupe.go), then the entries, then the
// replies, then the conversation's key and the card's fields, then the tally: n counter
// fields, the fields, a time to submit ("" = none), an answer pair ("" = none), the
// counters' ttl and the lists' bound. The tally is counted with Forget too: the event
// happened, and the counters name nobody. Then the audiences (audience.go): KEYS from
// 18 on are the indexes the conversation joins, then those it leaves; ARGV after the
// tally gives how many it joins and the score of joining (the event's time, ms). Only
// what moved is named, so an ordinary message touches no index; a Forget names every
// index the conversation was in, as ones it leaves. Last, "1" when the desk's card
// changed status or assignee ("0": it stays in the indexes it is in, only its score
// moves). Then the dedupe set's (dedupe.go): the time (unix s) and "1" to drop its
// members older than DedupeTTL.
//
// Every redis.call costs a few microseconds of Redis's one thread beyond its command,
// the most of what an event costs Redis: the script makes as few as it can (one RPUSH
// for all entries, a trim only when a list is over its bound, the day's ttl only when
// a counter is new).
var commitScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 'lost'
end
local nTr = tonumber(ARGV[10])
local nOut = tonumber(ARGV[11])
local nCard = tonumber(ARGV[17])
local conv = ARGV[21 + nTr + nOut]
local i = 21
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[8])
  for k = 9, 12 do
    redis.call('ZREM', KEYS[k], conv)
  end
else
  if ARGV[3] ~= '' then
    redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
    redis.call('SET', KEYS[4], ARGV[5], 'PX', ARGV[6])
  end
  if nTr > 0 then
    local max = tonumber(ARGV[9])
    if redis.call('RPUSH', KEYS[5], unpack(ARGV, i, i + nTr - 1)) > max then
      redis.call('LTRIM', KEYS[5], -max, -1)
    end
    redis.call('PEXPIRE', KEYS[5], ARGV[7])
  end
end
i = i + nTr
for j = i, i + nOut - 1 do
  redis.call('XADD', KEYS[6], '*', 'm', ARGV[j])
end
if ARGV[12] ~= '' then
  redis.call('XADD', KEYS[7], '*', 's', ARGV[12], 'id', ARGV[13])
end
i = i + nOut
if ARGV[2] ~= '1' and ARGV[14] ~= '' then
  local set, del = {}, {}
  for j = i + 1, i + nCard, 2 do
    if ARGV[j + 1] == '' then
      del[#del + 1] = ARGV[j]
    else
      set[#set + 1] = ARGV[j]
      set[#set + 1] = ARGV[j + 1]
    end
  end
  if #set > 0 then
    redis.call('HSET', KEYS[8], unpack(set))
  end
  if #del > 0 then
    redis.call('HDEL', KEYS[8], unpack(del))
  end
  redis.call('PEXPIRE', KEYS[8], ARGV[4])
  -- The last argument says whether the card changed status or assignee: only then is
  -- it taken out of the other indexes (most events only move it within its own).
  local statAt = i + 1 + nCard
  local moved = ARGV[statAt + tonumber(ARGV[statAt]) + 7] ~= '0'
  local idx = {waiting = KEYS[9], open = KEYS[10], resolved = KEYS[11]}
  for st, k in pairs(idx) do
    if st == ARGV[14] then
      redis.call('ZADD', k, ARGV[15], conv)
    elseif moved then
      redis.call('ZREM', k, conv)
    end
  end
  if moved then
    redis.call('ZREM', KEYS[12], conv)
  end
  if ARGV[14] ~= 'resolved' and string.sub(KEYS[13], -1) ~= ':' then
    redis.call('ZADD', KEYS[13], ARGV[16], conv)
  end
end
if ARGV[2] == '1' or ARGV[14] ~= '' then
  redis.call('PUBLISH', ARGV[18], ARGV[i])
end
i = i + 1 + nCard
local nStat = tonumber(ARGV[i])
local samples = {{KEYS[15], ARGV[i + nStat + 1]}, {KEYS[16], ARGV[i + nStat + 2]}}
local statTTL, statMax = ARGV[i + nStat + 3], tonumber(ARGV[i + nStat + 4])
-- A day's counters and lists get their ttl when they are made (a new field: the
-- hash may be new), not again at every count: the day is over long before its ttl.
local fresh = false
for j = i + 1, i + nStat do
  if redis.call('HINCRBY', KEYS[14], ARGV[j], 1) == 1 then
    fresh = true
  end
end
if fresh then
  redis.call('PEXPIRE', KEYS[14], statTTL)
end
for _, kv in ipairs(samples) do
  if kv[2] ~= '' then
    local n = redis.call('RPUSH', kv[1], kv[2])
    if n == 1 then
      redis.call('PEXPIRE', kv[1], statTTL)
    elseif n > statMax then
      redis.call('LTRIM', kv[1], -statMax, -1)
    end
  end
end
local nJoin, since = tonumber(ARGV[i + nStat + 5]), ARGV[i + nStat + 6]
for k = 18, 17 + nJoin do
  redis.call('ZADD', KEYS[k], since, conv)
end
for k = 18 + nJoin, #KEYS do
  redis.call('ZREM', KEYS[k], conv)
end
local now = tonumber(ARGV[#ARGV - 1])
redis.call('ZADD', KEYS[2], now, ARGV[19])
if ARGV[#ARGV] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - math.ceil(tonumber(ARGV[8]) / 1000)))
end
redis.call('PEXPIRE', KEYS[2], ARGV[8])
if ARGV[20] == '1' then
  redis.call('SET', KEYS[17], '1', 'PX', ARGV[8])
end
redis.call('DEL', KEYS[1])
return 'ok'
`)

// Commit writes the change and gives the lock back in one round trip. See bot.Store.
//
// A nil Change.Session leaves profile and state as they are. With Forget, profile,
// state and transcript are deleted and Change.Transcript is not written (the event that
// erased the conversation does not start a new transcript); replies and a submission
// are still queued. Every reply goes to the lease's channel queue, in order.
func (s *Store) Commit(ctx context.Context, lease *bot.Lease, c bot.Change) error {
	if lease == nil || lease.Duplicate {
		return errors.New("redisstore: commit: no lease held")
	}
	k := s.keys(lease.Conversation)
	legacy := "0"
	if s.o.LegacyFormat {
		legacy = "1"
	}
	// Room for all of it at once: the card's fields, the tally and the audiences come
	// after the entries and replies (a growing slice made a commit's most garbage).
	args := make([]any, 0, 40+2*deskFields+len(c.Transcript)+len(c.Replies)+len(c.Tally.Steps))
	args = append(args, lease.Token, "0", "", millis(s.o.ProfileTTL), "", millis(s.o.DraftTTL),
		millis(s.o.TranscriptTTL), millis(s.o.DedupeTTL), TranscriptMax, 0, len(c.Replies), "", "",
		"", 0, 0, 0, s.deskChannel(), lease.EventID, legacy)
	if c.Forget {
		args[1] = "1"
	} else {
		if c.Session != nil {
			prof, err := json.Marshal(c.Session.Profile)
			if err != nil {
				return fmt.Errorf("redisstore: commit: profile: %w", err)
			}
			state, err := json.Marshal(c.Session.State)
			if err != nil {
				return fmt.Errorf("redisstore: commit: state: %w", err)
			}
			if !s.o.LegacyFormat {
				prof, state = compactJSON(prof), compactJSON(state)
			}
			args[2], args[4] = string(prof), string(state)
		}
		args[9] = len(c.Transcript)
		withPhrases := len(c.Transcript) > 0 && !s.o.LegacyFormat && s.phrasesReady(ctx)
		for _, e := range c.Transcript {
			encode := s.encodeEntry
			if s.o.LegacyFormat {
				encode = func(e bot.TranscriptEntry, _ bool) ([]byte, error) { return json.Marshal(e) }
			}
			b, err := encode(e, withPhrases)
			if err != nil {
				return fmt.Errorf("redisstore: commit: transcript: %w", err)
			}
			args = append(args, string(b))
		}
	}
	for _, r := range c.Replies {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("redisstore: commit: reply: %w", err)
		}
		args = append(args, string(b))
	}
	if c.Submission != nil {
		b, err := json.Marshal(c.Submission)
		if err != nil {
			return fmt.Errorf("redisstore: commit: submission: %w", err)
		}
		args[11], args[12] = string(b), c.Submission.ID
	}
	desk := s.deskChange(c)
	args[13], args[14], args[15], args[16] = desk.status, desk.score, desk.activity, len(desk.fields)
	args = append(args, k.conv)
	args = append(args, desk.fields...)
	args = append(args, s.tallyArgs(c.Tally)...)
	day := c.Tally.Day
	if day == "" {
		day = bot.Day(time.Now()) // an empty tally: the keys are named, not touched
	}
	counts, took, answers := k.stats(day)
	keys := []string{k.lock, k.seen, k.prof, k.state, k.tr, k.out, k.outbox,
		k.card, k.desk("waiting"), k.desk("open"), k.desk("resolved"), k.desk("of:" + desk.was), k.desk("of:" + desk.now),
		counts, took, answers, k.legacySeen(lease.EventID)}
	join, leave := c.Audience.Moves()
	moved := "1"
	if !c.Forget && c.Session != nil && c.PriorDesk.State() == c.Session.Profile.Desk.State() && desk.was == desk.now {
		moved = "0"
	}
	args = append(args, len(join), audienceSince(c), moved, time.Now().Unix(), dedupeTrim(lease))
	for _, ix := range join {
		keys = append(keys, k.audience(lease.Conversation.Channel, ix))
	}
	for _, ix := range leave {
		keys = append(keys, k.audience(lease.Conversation.Channel, ix))
	}
	res, err := s.pipe.run(ctx, commitScript, keys, args...).Text()
	if err != nil {
		return fmt.Errorf("redisstore: commit: %w", err)
	}
	if res == "lost" {
		return bot.ErrLeaseLost
	}
	if c.Forget && lease.Conversation.Channel == bot.Web {
		// Under the conversation's own hash tag, not the shard's: a call of its own,
		// before this process's senders are woken to send the erasure's confirmation.
		if err := s.forgetWeb(ctx, lease.Conversation.ID); err != nil {
			return err
		}
	}
	if c.Submission != nil {
		s.wakes.signal("outbox", "", ShardOf(lease.Conversation))
	}
	if len(c.Replies) > 0 {
		s.wakes.signal("out", lease.Conversation.Channel, ShardOf(lease.Conversation))
	}
	return nil
}

// releaseScript deletes the lock only while it still holds our token.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Release gives the lock back without writing. Releasing a lock that already expired
// (or a duplicate's lease, whose lock Begin gave back) is not an error.
func (s *Store) Release(ctx context.Context, lease *bot.Lease) error {
	if lease == nil || lease.Duplicate {
		return nil
	}
	if err := releaseScript.Run(ctx, s.c, []string{s.keys(lease.Conversation).lock}, lease.Token).Err(); err != nil {
		return fmt.Errorf("redisstore: release: %w", err)
	}
	return nil
}

// NextReference returns the next number of the year's reference sequence (1, 2, …);
// flows format it as "SK-2026-000123". The counter has no TTL: a number must never be
// handed out twice.
func (s *Store) NextReference(ctx context.Context, prefix string, year int) (int64, error) {
	n, err := s.c.Incr(ctx, s.refseqKey(prefix, year)).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: next reference: %w", err)
	}
	return n, nil
}

var seedScript = redis.NewScript(`
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`)

// SeedReference raises the reference counter of prefix and year to at least n, so that
// NextReference continues after n. It never lowers a counter.
func (s *Store) SeedReference(ctx context.Context, prefix string, year int, n int64) error {
	if err := seedScript.Run(ctx, s.c, []string{s.refseqKey(prefix, year)}, n).Err(); err != nil {
		return fmt.Errorf("seed reference %s-%d: %w", prefix, year, err)
	}
	return nil
}

// Session loads a conversation's session without locking it; nil when there is none.
func (s *Store) Session(ctx context.Context, conv bot.ConversationRef) (*bot.Session, error) {
	if err := conv.Validate(); err != nil {
		return nil, fmt.Errorf("redisstore: session: %w", err)
	}
	k := s.keys(conv)
	// Both keys carry one hash tag, so MGET works on a cluster too.
	vals, err := s.c.MGet(ctx, k.prof, k.state).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: session: %w", err)
	}
	sess, err := decodeSession(conv, vals[0], vals[1])
	if err != nil {
		return nil, fmt.Errorf("redisstore: session: %w", err)
	}
	if sess.New {
		return nil, nil
	}
	return sess, nil
}

// Transcript returns the conversation's last n entries, oldest first; all of them when
// n <= 0.
func (s *Store) Transcript(ctx context.Context, conv bot.ConversationRef, n int) ([]bot.TranscriptEntry, error) {
	if err := conv.Validate(); err != nil {
		return nil, fmt.Errorf("redisstore: transcript: %w", err)
	}
	start := int64(0)
	if n > 0 {
		start = -int64(n)
	}
	vals, err := s.c.LRange(ctx, s.keys(conv).tr, start, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: transcript: %w", err)
	}
	out, err := s.decodeEntries(ctx, vals)
	if err != nil {
		return nil, fmt.Errorf("redisstore: transcript: %w", err)
	}
	return out, nil
}

// Ping checks that Redis answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// decodeSession builds a session from the profile and state values as Redis returned
// them (nil for a missing key).
func decodeSession(conv bot.ConversationRef, prof, state any) (*bot.Session, error) {
	sess := &bot.Session{Conversation: conv}
	p, hasProf := prof.(string)
	st, hasState := state.(string)
	if hasProf {
		if err := unmarshalCompact(p, &sess.Profile); err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
	}
	if hasState {
		if err := unmarshalCompact(st, &sess.State); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
	}
	sess.New = !hasProf && !hasState
	return sess, nil
}

// newToken returns a lease token: 16 random bytes, hex. crypto/rand.Read never fails
// (it aborts the program when the system has no randomness).
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// millis is d in whole milliseconds, at least 1 (PX 0 is an error).
func millis(d time.Duration) int64 {
	if ms := d.Milliseconds(); ms > 0 {
		return ms
	}
	return 1
}
