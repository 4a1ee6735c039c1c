package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// newStore returns a store on the test server under a prefix of the test's own.
func newStore(t *testing.T) (*Store, redis.UniversalClient) {
	t.Helper()
	c := redistest.Client(t)
	return New(c, Options{Prefix: redistest.Prefix(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}), c
}

// begin takes a lease that must be granted.
func begin(t *testing.T, s *Store, conv bot.ConversationRef, eventID string) *bot.Lease {
	t.Helper()
	l, err := s.Begin(context.Background(), conv, eventID, 5*time.Second)
	if err != nil {
		t.Fatalf("Begin(%s, %s): %v", conv, eventID, err)
	}
	return l
}

// commit runs Begin and Commit for one event.
func commit(t *testing.T, s *Store, conv bot.ConversationRef, eventID string, c bot.Change) {
	t.Helper()
	l := begin(t, s, conv, eventID)
	if l.Duplicate {
		t.Fatalf("Begin(%s, %s): unexpected duplicate", conv, eventID)
	}
	if err := s.Commit(context.Background(), l, c); err != nil {
		t.Fatalf("Commit(%s, %s): %v", conv, eventID, err)
	}
}

var at = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func sampleSession(conv bot.ConversationRef) *bot.Session {
	return &bot.Session{
		Conversation: conv,
		Profile:      bot.Profile{Lang: "vi", Created: at, Updated: at},
		State: bot.State{Flow: "initiative", Step: "title", History: []string{"program"}, Updated: at,
			Draft: &bot.Draft{ID: "d1", Proposal: bot.Proposal{Kind: bot.KindInitiative, Title: "Cây xanh phố cổ"}, Started: at}},
	}
}

func entries(eventID string, texts ...string) []bot.TranscriptEntry {
	out := make([]bot.TranscriptEntry, len(texts))
	for i, tx := range texts {
		out[i] = bot.TranscriptEntry{Dir: bot.Inbound, EventID: eventID, Kind: "text", Text: tx, At: at}
	}
	return out
}

func TestBeginCommitLoad(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "1001"}

	l := begin(t, s, conv, "e1")
	if l.Duplicate || l.Session == nil || !l.Session.New || l.Token == "" {
		t.Fatalf("first Begin: got %+v, want a new session and a token", l)
	}
	if l.Session.Conversation != conv {
		t.Errorf("session conversation = %v, want %v", l.Session.Conversation, conv)
	}
	want := sampleSession(conv)
	if err := s.Commit(ctx, l, bot.Change{Session: want, Transcript: entries("e1", "xin chào", "1")}); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	l2 := begin(t, s, conv, "e2")
	got := l2.Session
	if got.New || got.Profile.Lang != "vi" || got.State.Step != "title" || got.State.Draft == nil ||
		got.State.Draft.Title != want.State.Draft.Title || !got.Profile.Created.Equal(at) {
		t.Errorf("loaded session = %+v, want %+v", got, want)
	}
	if err := s.Release(ctx, l2); err != nil {
		t.Fatalf("Release: %v", err)
	}
	// Released: the next event takes the lock at once.
	if err := s.Release(ctx, begin(t, s, conv, "e3")); err != nil {
		t.Fatalf("Release: %v", err)
	}

	read, err := s.Session(ctx, conv)
	if err != nil || read == nil || read.State.Flow != "initiative" {
		t.Errorf("Session() = %+v, %v; want the committed session", read, err)
	}
	none, err := s.Session(ctx, bot.ConversationRef{Channel: bot.Zalo, ID: "nobody"})
	if err != nil || none != nil {
		t.Errorf("Session(unknown) = %+v, %v; want nil, nil", none, err)
	}
	tr, err := s.Transcript(ctx, conv, 0)
	if err != nil || len(tr) != 2 || tr[0].Text != "xin chào" || tr[1].Text != "1" {
		t.Errorf("Transcript() = %+v, %v; want the two entries in order", tr, err)
	}
}

func TestBusy(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Zalo, ID: "u42"}
	l := begin(t, s, conv, "e1")
	if _, err := s.Begin(ctx, conv, "e2", time.Second); !errors.Is(err, bot.ErrBusy) {
		t.Fatalf("second Begin: err = %v, want ErrBusy", err)
	}
	// A duplicate of a handled event is still busy while someone holds the lock.
	if _, err := s.Begin(ctx, conv, "e1", time.Second); !errors.Is(err, bot.ErrBusy) {
		t.Fatalf("Begin of the held event: err = %v, want ErrBusy", err)
	}
	if err := s.Release(ctx, l); err != nil {
		t.Fatal(err)
	}
	begin(t, s, conv, "e2")
}

func TestConcurrentBeginOneWins(t *testing.T) {
	s, _ := newStore(t)
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "77"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, busy := 0, 0
	for i := range 8 {
		wg.Go(func() {
			_, err := s.Begin(context.Background(), conv, fmt.Sprint("e", i), 5*time.Second)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, bot.ErrBusy):
				busy++
			default:
				t.Errorf("Begin: %v", err)
			}
		})
	}
	wg.Wait()
	if won != 1 || busy != 7 {
		t.Errorf("won = %d, busy = %d; want 1 and 7", won, busy)
	}
}

func TestDuplicate(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "5"}
	commit(t, s, conv, "e1", bot.Change{Session: sampleSession(conv)})

	l := begin(t, s, conv, "e1")
	if !l.Duplicate || l.Session != nil {
		t.Fatalf("Begin(repeat) = %+v, want Duplicate and no session", l)
	}
	if err := s.Commit(ctx, l, bot.Change{}); err == nil {
		t.Error("Commit of a duplicate's lease: want an error")
	}
	if err := s.Release(ctx, l); err != nil {
		t.Errorf("Release of a duplicate's lease: %v", err)
	}
	// The duplicate gave the lock back.
	if l2 := begin(t, s, conv, "e2"); l2.Duplicate {
		t.Error("Begin(e2) reported a duplicate")
	}
}

func TestLeaseLost(t *testing.T) {
	tests := []struct {
		name      string
		takenOver bool // another event took the lock after it expired
	}{
		{"expired", false},
		{"expired and taken", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			ctx := context.Background()
			conv := bot.ConversationRef{Channel: bot.Terminal, ID: "local"}
			l, err := s.Begin(ctx, conv, "e1", 50*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(150 * time.Millisecond)
			var other *bot.Lease
			if tt.takenOver {
				other = begin(t, s, conv, "e2")
			}
			err = s.Commit(ctx, l, bot.Change{
				Session:    sampleSession(conv),
				Transcript: entries("e1", "late"),
				Replies:    []bot.Outbound{{ID: "e1/0", Conversation: conv}},
			})
			if !errors.Is(err, bot.ErrLeaseLost) {
				t.Fatalf("Commit: err = %v, want ErrLeaseLost", err)
			}
			if other != nil {
				if err := s.Release(ctx, other); err != nil {
					t.Fatal(err)
				}
			}
			// Nothing was written: no session, no transcript, no reply, and e1 is not deduped.
			if sess, err := s.Session(ctx, conv); err != nil || sess != nil {
				t.Errorf("Session = %+v, %v; want nothing written", sess, err)
			}
			if tr, _ := s.Transcript(ctx, conv, 0); len(tr) != 0 {
				t.Errorf("transcript = %+v, want empty", tr)
			}
			if n := s.c.XLen(ctx, s.keys(conv).out).Val(); n != 0 {
				t.Errorf("delivery queue length = %d, want 0", n)
			}
			if l := begin(t, s, conv, "e1"); l.Duplicate {
				t.Error("e1 is marked seen after a lost commit")
			}
		})
	}
}

func TestForget(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "forgetme"}
	commit(t, s, conv, "e1", bot.Change{Session: sampleSession(conv), Transcript: entries("e1", "hi")})
	commit(t, s, conv, "e2", bot.Change{
		Forget:     true,
		Session:    sampleSession(conv), // ignored with Forget
		Transcript: entries("e2", "forget me"),
		Replies:    []bot.Outbound{{ID: "e2/0", Conversation: conv, Reply: bot.Reply{Text: "done"}}},
	})
	k := s.keys(conv)
	if n := c.Exists(ctx, k.prof, k.state, k.tr).Val(); n != 0 {
		t.Errorf("%d of profile, state, transcript still exist, want 0", n)
	}
	if sess, err := s.Session(ctx, conv); err != nil || sess != nil {
		t.Errorf("Session = %+v, %v; want nil", sess, err)
	}
	if l := begin(t, s, conv, "e2"); !l.Duplicate {
		t.Error("the forget event is not deduped any more")
	}
	if n := c.XLen(ctx, k.out).Val(); n != 1 {
		t.Errorf("delivery queue length = %d, want the forget reply", n)
	}
	l := begin(t, s, conv, "e3")
	if !l.Session.New {
		t.Error("session after forget is not new")
	}
}

func TestCommitQueues(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Zalo, ID: "z9"}
	replies := []bot.Outbound{
		{ID: "e1/0", Conversation: conv, Lang: "vi", Reply: bot.Reply{Text: "Cảm ơn"}},
		{ID: "e1/1", Conversation: conv, Lang: "vi", Reply: bot.Reply{Text: "Mã: SK-2026-000001",
			Choices: []bot.Choice{{Label: "Menu", Payload: "menu"}}}},
	}
	sub := &bot.Submission{ID: "sub-1", Reference: "SK-2026-000001", Proposal: bot.Proposal{Kind: bot.KindInitiative}, Conversation: conv}
	commit(t, s, conv, "e1", bot.Change{Session: sampleSession(conv), Replies: replies, Submission: sub})

	k := s.keys(conv)
	if !strings.HasSuffix(k.out, ":out:zalo") {
		t.Fatalf("queue key %q does not name the channel", k.out)
	}
	if k.out != s.OutboundStream(ShardOf(conv), bot.Zalo) {
		t.Errorf("OutboundStream = %q, want %q", s.OutboundStream(ShardOf(conv), bot.Zalo), k.out)
	}
	msgs := c.XRange(ctx, k.out, "-", "+").Val()
	if len(msgs) != 2 {
		t.Fatalf("delivery queue holds %d entries, want 2", len(msgs))
	}
	for i, m := range msgs {
		if !strings.Contains(m.Values["m"].(string), `"id":"`+replies[i].ID+`"`) {
			t.Errorf("entry %d = %v, want reply %s", i, m.Values, replies[i].ID)
		}
	}
	ob := c.XRange(ctx, k.outbox, "-", "+").Val()
	if len(ob) != 1 || ob[0].Values["id"] != "sub-1" || !strings.Contains(ob[0].Values["s"].(string), "SK-2026-000001") {
		t.Errorf("outbox = %+v, want the submission", ob)
	}
}

func TestTTLs(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "ttl"}
	l := begin(t, s, conv, "e1")
	k := s.keys(conv)
	if d := c.PTTL(ctx, k.lock).Val(); d <= 0 {
		t.Errorf("lock PTTL = %v, want > 0", d)
	}
	if err := s.Commit(ctx, l, bot.Change{
		Session: sampleSession(conv), Transcript: entries("e1", "a"),
		Replies:    []bot.Outbound{{ID: "e1/0", Conversation: conv}},
		Submission: &bot.Submission{ID: "s1"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NextReference(ctx, "SK", 2026); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key     string
		max     time.Duration
		noTTL   bool
		missing bool
	}{
		{key: k.prof, max: DefaultProfileTTL},
		{key: k.state, max: DefaultDraftTTL},
		{key: k.tr, max: DefaultTranscriptTTL},
		{key: k.seen, max: DefaultDedupeTTL},
		{key: k.legacySeen("e1"), missing: true},
		{key: k.lock, missing: true},
		// Queues and the reference counter are documented to have no TTL.
		{key: k.out, noTTL: true},
		{key: k.outbox, noTTL: true},
		{key: s.refseqKey("SK", 2026), noTTL: true},
	}
	for _, tt := range tests {
		d := c.PTTL(ctx, tt.key).Val()
		switch {
		case tt.missing:
			if d != -2*time.Nanosecond && d != -2*time.Millisecond && d != -2 {
				t.Errorf("%s: PTTL = %v, want the key gone", tt.key, d)
			}
		case tt.noTTL:
			if c.Exists(ctx, tt.key).Val() != 1 || d >= 0 {
				t.Errorf("%s: PTTL = %v, want an existing key without TTL", tt.key, d)
			}
		default:
			if d <= 0 || d > tt.max {
				t.Errorf("%s: PTTL = %v, want in (0, %v]", tt.key, d, tt.max)
			}
		}
	}
}

func TestKeysShareShardTag(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	for _, conv := range []bot.ConversationRef{
		{Channel: bot.Telegram, ID: "1"}, {Channel: bot.Zalo, ID: "abc"}, {Channel: bot.Terminal, ID: "x-y"},
	} {
		t.Run(conv.Key(), func(t *testing.T) {
			l := begin(t, s, conv, "e1")
			k := s.keys(conv)
			if c.Exists(ctx, k.lock).Val() != 1 {
				t.Errorf("lock %s not held after Begin", k.lock)
			}
			if err := s.Commit(ctx, l, bot.Change{
				Session: sampleSession(conv), Transcript: entries("e1", "a"),
				Replies:    []bot.Outbound{{ID: "e1/0", Conversation: conv}},
				Submission: &bot.Submission{ID: "s1"},
			}); err != nil {
				t.Fatal(err)
			}
			written := []string{k.prof, k.state, k.tr, k.seen, k.out, k.outbox}
			if n := c.Exists(ctx, written...).Val(); n != int64(len(written)) {
				t.Errorf("%d of %v exist, want all", n, written)
			}
			want := tag(ShardOf(conv))
			for _, key := range append(written, k.lock, k.legacySeen("e1")) {
				if !strings.HasPrefix(key, s.prefix+":"+want+":") || strings.Count(key, "{") != 1 {
					t.Errorf("key %q lacks the one tag %s", key, want)
				}
				if keySlot(key) != keySlot(k.lock) {
					t.Errorf("key %q is in slot %d, the lock in %d", key, keySlot(key), keySlot(k.lock))
				}
			}
		})
	}
	if got := tag(7); got != "{s07}" {
		t.Errorf("tag(7) = %q, want {s07}", got)
	}
}

// keySlot is Redis Cluster's hash slot of a key (CRC16/XMODEM of the hash tag, mod 16384),
// computed here because CLUSTER KEYSLOT needs a cluster.
func keySlot(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for _, b := range []byte(key) {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
}

func TestKeySlot(t *testing.T) {
	// Known answers from CLUSTER KEYSLOT.
	tests := []struct {
		key  string
		want uint16
	}{
		{"a{s01}b", 8895},
		{"123456789", 12739},
	}
	for _, tt := range tests {
		if got := keySlot(tt.key); got != tt.want {
			t.Errorf("keySlot(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

func TestTranscriptTrimAndTail(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "long"}
	texts := make([]string, TranscriptMax+5)
	for i := range texts {
		texts[i] = fmt.Sprint(i)
	}
	commit(t, s, conv, "e1", bot.Change{Transcript: entries("e1", texts...)})
	all, err := s.Transcript(ctx, conv, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != TranscriptMax || all[0].Text != "5" || all[len(all)-1].Text != fmt.Sprint(TranscriptMax+4) {
		t.Errorf("transcript has %d entries from %q, want %d from \"5\"", len(all), all[0].Text, TranscriptMax)
	}
	tail, err := s.Transcript(ctx, conv, 2)
	if err != nil || len(tail) != 2 || tail[0].Text != fmt.Sprint(TranscriptMax+3) {
		t.Errorf("Transcript(2) = %+v, %v; want the last two, oldest first", tail, err)
	}
	// A commit without a session keeps the session as it was (none here).
	if sess, err := s.Session(ctx, conv); err != nil || sess != nil {
		t.Errorf("Session = %+v, %v; want nil", sess, err)
	}
}

func TestNextReference(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for i, want := range []int64{1, 2, 3} {
		got, err := s.NextReference(ctx, "SK", 2026)
		if err != nil || got != want {
			t.Errorf("call %d: NextReference = %d, %v; want %d", i, got, err, want)
		}
	}
	if got, err := s.NextReference(ctx, "SK", 2027); err != nil || got != 1 {
		t.Errorf("new year: NextReference = %d, %v; want 1", got, err)
	}
}

func TestRoundTrips(t *testing.T) {
	s, c := newStore(t)
	rt := &RoundTrips{}
	c.AddHook(rt)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "rt"}
	change := bot.Change{Session: sampleSession(conv), Transcript: entries("x", "a"),
		Replies: []bot.Outbound{{ID: "x/0", Conversation: conv}}}
	// Load the scripts first: a script's first run may cost EVALSHA + EVAL.
	commit(t, s, conv, "warm", change)

	rt.Reset()
	l := begin(t, s, conv, "e1")
	if n := rt.Count(); n != 1 {
		t.Errorf("Begin cost %d round trips, want 1", n)
	}
	rt.Reset()
	if err := s.Commit(ctx, l, change); err != nil {
		t.Fatal(err)
	}
	if n := rt.Count(); n != 1 {
		t.Errorf("Commit cost %d round trips, want 1", n)
	}
	rt.Reset()
	if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Ping(ctx)
		p.Ping(ctx)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := rt.Count(); n != 1 {
		t.Errorf("a pipeline counted %d, want 1", n)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestInvalidArguments(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	bad := bot.ConversationRef{Channel: bot.Telegram, ID: "a{b}"}
	good := bot.ConversationRef{Channel: bot.Telegram, ID: "ok"}
	tests := []struct {
		name string
		run  func() error
	}{
		{"begin reserved id", func() error { _, err := s.Begin(ctx, bad, "e", time.Second); return err }},
		{"begin no event id", func() error { _, err := s.Begin(ctx, good, "", time.Second); return err }},
		{"commit nil lease", func() error { return s.Commit(ctx, nil, bot.Change{}) }},
		{"session reserved id", func() error { _, err := s.Session(ctx, bad); return err }},
		{"transcript reserved id", func() error { _, err := s.Transcript(ctx, bad, 1); return err }},
		{"claim no consumer", func() error { _, err := s.Claim(ctx, "", 1, time.Second, 0); return err }},
		{"claim n=0", func() error { _, err := s.Claim(ctx, "w", 0, time.Second, 0); return err }},
		{"ack bad entry", func() error { return s.Ack(ctx, bot.OutboxItem{Entry: "99/1-0"}) }},
		{"ack no slash", func() error { return s.Ack(ctx, bot.OutboxItem{Entry: "1-0"}) }},
	}
	for _, tt := range tests {
		if err := tt.run(); err == nil {
			t.Errorf("%s: want an error", tt.name)
		}
	}
	if err := s.Release(ctx, nil); err != nil {
		t.Errorf("Release(nil) = %v, want nil", err)
	}
}

func TestRedisErrors(t *testing.T) {
	// A closed client: every call reports a wrapped error.
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	_ = c.Close()
	s := New(c, Options{})
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "1"}
	lease := &bot.Lease{Conversation: conv, EventID: "e", Token: "t"}
	tests := []struct {
		name string
		run  func() error
	}{
		{"begin", func() error { _, err := s.Begin(ctx, conv, "e", time.Second); return err }},
		{"commit", func() error { return s.Commit(ctx, lease, bot.Change{}) }},
		{"release", func() error { return s.Release(ctx, lease) }},
		{"next reference", func() error { _, err := s.NextReference(ctx, "SK", 2026); return err }},
		{"session", func() error { _, err := s.Session(ctx, conv); return err }},
		{"transcript", func() error { _, err := s.Transcript(ctx, conv, 1); return err }},
		{"ping", func() error { return s.Ping(ctx) }},
		{"claim", func() error { _, err := s.Claim(ctx, "w", 1, time.Second, 0); return err }},
		{"ack", func() error { return s.Ack(ctx, bot.OutboxItem{Entry: "1/1-0"}) }},
	}
	for _, tt := range tests {
		err := tt.run()
		if err == nil || !strings.HasPrefix(err.Error(), "redisstore: ") {
			t.Errorf("%s: err = %v, want a wrapped redisstore error", tt.name, err)
		}
	}
}

func TestCorruptSession(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "bad"}
	k := s.keys(conv)
	tests := []struct{ key string }{{k.prof}, {k.state}}
	for _, tt := range tests {
		c.Set(ctx, tt.key, "{not json", time.Minute)
		if _, err := s.Session(ctx, conv); err == nil {
			t.Errorf("%s corrupt: Session wants an error", tt.key)
		}
		if _, err := s.Begin(ctx, conv, "e", time.Second); err == nil {
			t.Errorf("%s corrupt: Begin wants an error", tt.key)
		}
		c.Del(ctx, tt.key, k.lock)
	}
	c.RPush(ctx, k.tr, "nope")
	if _, err := s.Transcript(ctx, conv, 0); err == nil {
		t.Error("corrupt transcript: want an error")
	}
}

// BenchmarkEvent measures one event's store work: Begin, then a Commit of a session,
// two transcript entries and one reply. It reports Redis round trips per event.
func BenchmarkEvent(b *testing.B) {
	c := redistest.Client(b)
	s := New(c, Options{Prefix: redistest.Prefix(b)})
	rt := &RoundTrips{}
	c.AddHook(rt)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "bench"}
	sess := sampleSession(conv)
	i := 0
	event := func() {
		i++
		id := fmt.Sprint("e", i)
		l, err := s.Begin(ctx, conv, id, 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Commit(ctx, l, bot.Change{Session: sess, Transcript: entries(id, "in", "out"),
			Replies: []bot.Outbound{{ID: id + "/0", Conversation: conv}}}); err != nil {
			b.Fatal(err)
		}
	}
	event() // loads the scripts
	rt.Reset()
	b.ResetTimer()
	for b.Loop() {
		event()
	}
	b.ReportMetric(float64(rt.Count())/float64(b.N), "roundtrips/event")
}
