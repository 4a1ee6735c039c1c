package redisstore

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"testing"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// TestDedupeSet: a conversation's handled events are one small sorted set with the
// dedupe TTL, every one of them refused again, and members older than the TTL are
// dropped by the next commit.
func TestDedupeSet(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "dd1"}
	k := s.keys(conv)
	if err := c.ZAdd(ctx, k.seen, redis.Z{Score: 1, Member: "ancient"}).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		commit(t, s, conv, strconv.Itoa(900_000_000+i), bot.Change{Session: sampleSession(conv)})
	}
	for i := range 6 {
		if l := begin(t, s, conv, strconv.Itoa(900_000_000+i)); !l.Duplicate {
			t.Errorf("event %d: Begin = %+v, want a duplicate", i, l)
		}
	}
	if n := c.ZCard(ctx, k.seen).Val(); n != 6 {
		t.Errorf("dedupe set holds %d events, want the 6 of the last day (the ancient one dropped)", n)
	}
	if enc := c.ObjectEncoding(ctx, k.seen).Val(); enc != "listpack" {
		t.Errorf("OBJECT ENCODING = %q, want listpack", enc)
	}
	if d := c.PTTL(ctx, k.seen).Val(); d <= 0 || d > DefaultDedupeTTL {
		t.Errorf("PTTL = %v, want in (0, %v]", d, DefaultDedupeTTL)
	}
	if n := c.Exists(ctx, k.legacySeen("900000000")).Val(); n != 0 {
		t.Error("a legacy marker was written without LegacyFormat")
	}
	// Another conversation's events are its own.
	other := bot.ConversationRef{Channel: bot.Telegram, ID: "dd2"}
	if l := begin(t, s, other, "900000000"); l.Duplicate {
		t.Error("the same event id in another conversation is refused")
	}
}

// oldBeginScript is Begin's script as the version before the dedupe sets ran it:
// KEYS lock, the event's marker, prof, state. It stands for an old process during a
// rolling upgrade.
var oldBeginScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {'busy'}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('DEL', KEYS[1])
  return {'dup'}
end
return {'ok', redis.call('GET', KEYS[3]), redis.call('GET', KEYS[4])}
`)

// TestDedupeRollingUpgrade: during a rolling upgrade no event runs twice, whichever
// version handles it first. An old process's marker is refused by a new one; a new
// process with LegacyFormat writes the marker an old one refuses.
func TestDedupeRollingUpgrade(t *testing.T) {
	ctx := context.Background()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	upgrading := New(c, Options{Prefix: prefix, Logger: quiet, LegacyFormat: true})
	upgraded := New(c, Options{Prefix: prefix, Logger: quiet})
	conv := bot.ConversationRef{Channel: bot.Zalo, ID: "roll"}
	k := upgraded.keys(conv)
	oldBegin := func(event string) string {
		t.Helper()
		res, err := oldBeginScript.Run(ctx, c, []string{k.lock, k.legacySeen(event), k.prof, k.state}, "old", 5000).Slice()
		if err != nil {
			t.Fatal(err)
		}
		if res[0] == "ok" {
			c.Del(ctx, k.lock)
		}
		return res[0].(string)
	}

	// Handled by an old process (it wrote its marker), redelivered to a new one.
	if err := c.Set(ctx, k.legacySeen("e-old"), "1", DefaultDedupeTTL).Err(); err != nil {
		t.Fatal(err)
	}
	if l := begin(t, upgraded, conv, "e-old"); !l.Duplicate {
		t.Error("a new process ran an event an old one had handled")
	}
	// Handled by a new process during the upgrade, redelivered to an old one.
	commit(t, upgrading, conv, "e-new", bot.Change{Session: sampleSession(conv)})
	if got := oldBegin("e-new"); got != "dup" {
		t.Errorf("an old process's Begin of an event the upgrading one handled = %q, want dup", got)
	}
	if d := c.PTTL(ctx, k.legacySeen("e-new")).Val(); d <= 0 || d > DefaultDedupeTTL {
		t.Errorf("legacy marker PTTL = %v, want in (0, %v]", d, DefaultDedupeTTL)
	}
	if l := begin(t, upgraded, conv, "e-new"); !l.Duplicate {
		t.Error("a new process ran an event another new one had handled")
	}
	// After the upgrade, no more markers.
	commit(t, upgraded, conv, "e-after", bot.Change{Session: sampleSession(conv)})
	if c.Exists(ctx, k.legacySeen("e-after")).Val() != 0 {
		t.Error("a legacy marker was written without LegacyFormat")
	}
	if l := begin(t, upgraded, conv, "e-after"); !l.Duplicate {
		t.Error("e-after is not deduped")
	}
}

// TestLegacyFormatReadsInOldVersions: with LegacyFormat, what a commit writes is what
// the version before the compact forms reads (plain JSON sessions, bot.TranscriptEntry
// JSON lines); without it, the compact forms.
func TestLegacyFormatReadsInOldVersions(t *testing.T) {
	ctx := context.Background()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	upgrading := New(c, Options{Prefix: prefix, Logger: quiet, LegacyFormat: true, Phrases: []string{welcome, menu}})
	upgraded := New(c, Options{Prefix: prefix, Logger: quiet, Phrases: []string{welcome, menu}})
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "legacy-format"}
	k := upgraded.keys(conv)
	sess := sampleSession(conv)
	line := bot.TranscriptEntry{Dir: bot.Outgoing, EventID: "1/0", Kind: "reply", Text: welcome + "\n\n" + menu, At: at}
	commit(t, upgrading, conv, "1", bot.Change{Session: sess, Transcript: []bot.TranscriptEntry{line}})

	// As the old version read them: json.Unmarshal of each value.
	var prof bot.Profile
	var state bot.State
	var old bot.TranscriptEntry
	if err := json.Unmarshal([]byte(c.Get(ctx, k.prof).Val()), &prof); err != nil || prof.Lang != "vi" {
		t.Errorf("old reader: profile %+v, %v", prof, err)
	}
	if err := json.Unmarshal([]byte(c.Get(ctx, k.state).Val()), &state); err != nil || state.Draft == nil || state.Draft.Title != sess.State.Draft.Title {
		t.Errorf("old reader: state %+v, %v", state, err)
	}
	if err := json.Unmarshal([]byte(c.LIndex(ctx, k.tr, 0).Val()), &old); err != nil || old.Text != line.Text {
		t.Errorf("old reader: line %+v, %v", old, err)
	}

	commit(t, upgraded, conv, "2", bot.Change{Session: sess, Transcript: []bot.TranscriptEntry{line}})
	if raw := c.Get(ctx, k.state).Val(); raw[0] != compactMark {
		t.Errorf("after the upgrade, state %q is not compacted", raw)
	}
	if raw := c.LIndex(ctx, k.tr, 1).Val(); raw[0] != entryMark {
		t.Errorf("after the upgrade, line %q is not a record", raw)
	}
	got, err := upgraded.Transcript(ctx, conv, 0)
	if err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], line) || !reflect.DeepEqual(got[1], line) {
		t.Errorf("Transcript() = %+v, %v", got, err)
	}
}
