package redisstore

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

var (
	welcome = "Xin chào! 👋 Đây là kênh Sáng kiến Hà Nội. Tại đây, bạn có thể gửi sáng kiến."
	ask     = "Bạn hãy đặt tiêu đề cho sáng kiến (từ "
	askEnd  = " ký tự). Bạn có thể gửi thành nhiều tin nhắn."
	menu    = "Bạn muốn làm gì? Bạn hãy chọn một mục bên dưới hoặc gõ số thứ tự."
)

// newPhraseStore is a store of the test's prefix that knows phrases.
func newPhraseStore(t *testing.T, prefix string, phrases ...string) *Store {
	t.Helper()
	return New(redistest.Client(t), Options{Prefix: prefix, Phrases: phrases,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// conversationLines are the lines of one turn: the citizen's words (which echo a
// phrase, and must stay theirs), and the bot's, made of phrases, placeholders' values
// and the citizen's draft.
func conversationLines() []bot.TranscriptEntry {
	when := time.Date(2026, 3, 1, 9, 30, 0, 123_000_000, time.UTC)
	return []bot.TranscriptEntry{
		{Dir: bot.Inbound, EventID: "7", Kind: "text", Text: "Cây xanh phố cổ, " + menu, At: when},
		{Dir: bot.Outgoing, EventID: "7/0", Kind: "reply", Text: welcome + "\n\n" + menu, At: when},
		{Dir: bot.Outgoing, EventID: "7/1", Kind: "reply", Text: ask + "10 đến 150" + askEnd, At: when},
		{Dir: bot.Outgoing, EventID: "7/2", Kind: "reply", Text: "Tiêu đề: Cây xanh phố cổ\n\n" + menu, At: when},
		{Dir: bot.Outgoing, EventID: "7/3", Kind: "staff_reply", Staff: "lan@hanoi.gov.vn", Text: "Chào bạn", At: when},
		{Dir: bot.Inbound, EventID: "8", Kind: "photo", Text: "[ảnh]", At: when,
			Attachments: []bot.Attachment{{Kind: bot.Photo, Ref: "AgAC-1", Size: 2048}},
			Location:    &bot.Location{Lat: 21.03, Lon: 105.85}},
		{Dir: bot.Inbound, EventID: "9", Kind: "text", Text: "", At: when},
	}
}

// TestTranscriptPhrases: the bot's fixed texts are kept by reference and the rest
// inline, and every line reads back exactly as it was written, by this process and by
// one that knows other phrases (another version) or none (a console).
func TestTranscriptPhrases(t *testing.T) {
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	s := newPhraseStore(t, prefix, welcome, menu, ask, askEnd, "short")
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "501"}
	want := conversationLines()
	commit(t, s, conv, "7", bot.Change{Session: sampleSession(conv), Transcript: want})

	raw, err := s.c.LRange(ctx, s.keys(conv).tr, 0, -1).Result()
	if err != nil || len(raw) != len(want) {
		t.Fatalf("LRANGE = %d lines, %v", len(raw), err)
	}
	stored := strings.Join(raw, "\n")
	for _, p := range []string{welcome, ask, askEnd} {
		if strings.Contains(stored, p) {
			t.Errorf("the stored transcript holds the phrase %q whole:\n%s", p, stored)
		}
	}
	if !strings.Contains(raw[0], menu) {
		t.Errorf("the citizen's own line %s lost its words: only the bot's replies use phrases", raw[0])
	}
	if !strings.Contains(raw[3], "Cây xanh phố cổ") {
		t.Errorf("the review line %s must keep the draft in the conversation's key", raw[3])
	}
	registry, err := s.c.HGetAll(ctx, s.phrases.key).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range registry {
		if strings.Contains(v, "Cây xanh") || strings.Contains(v, "10 đến 150") {
			t.Errorf("the shared registry holds a conversation's words: %q", v)
		}
	}

	for name, reader := range map[string]*Store{
		"writer":        s,
		"other version": newPhraseStore(t, prefix, "Một câu khác hẳn của phiên bản mới.", menu),
		"console":       newPhraseStore(t, prefix),
	} {
		got, err := reader.Transcript(ctx, conv, 0)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Transcript() = %+v, %v\nwant %+v", name, got, err, want)
		}
		last, err := reader.Transcript(ctx, conv, 2)
		if err != nil || !reflect.DeepEqual(last, want[len(want)-2:]) {
			t.Errorf("%s: Transcript(2) = %+v, %v", name, last, err)
		}
	}
}

// TestPhraseNumbersStay: a phrase keeps its number whatever process registers it and
// in whatever order, and a new phrase takes a new number.
func TestPhraseNumbersStay(t *testing.T) {
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	a := newPhraseStore(t, prefix, welcome, menu)
	b := newPhraseStore(t, prefix, "Một câu mới của phiên bản sau.", menu, welcome)
	if !a.phrasesReady(ctx) || !b.phrasesReady(ctx) {
		t.Fatal("phrases not registered")
	}
	if a.phrases.refs[0] != b.phrases.refs[2] || a.phrases.refs[1] != b.phrases.refs[1] {
		t.Errorf("numbers moved: %v then %v", a.phrases.refs, b.phrases.refs)
	}
	if b.phrases.refs[0] != 3 {
		t.Errorf("new phrase got %d, want the next number 3", b.phrases.refs[0])
	}
	if n, _ := a.c.HLen(ctx, a.phrases.key).Result(); n != 3 {
		t.Errorf("registry holds %d phrases, want 3", n)
	}
}

// TestTranscriptOldLines: lines written by the version before (bot.TranscriptEntry's
// JSON, whole texts) read as they did, beside new ones.
func TestTranscriptOldLines(t *testing.T) {
	ctx := context.Background()
	s := newPhraseStore(t, redistest.Prefix(t), welcome, menu)
	conv := bot.ConversationRef{Channel: bot.Zalo, ID: "old-1"}
	old := []bot.TranscriptEntry{
		{Dir: bot.Inbound, EventID: "e1", Kind: "text", Text: "xin chào", At: time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.UTC)},
		{Dir: bot.Outgoing, EventID: "e1/0", Kind: "reply", Text: welcome + "\n\n" + menu, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
	for _, e := range old {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.c.RPush(ctx, s.keys(conv).tr, b).Err(); err != nil {
			t.Fatal(err)
		}
	}
	fresh := bot.TranscriptEntry{Dir: bot.Outgoing, EventID: "e2/0", Kind: "reply", Text: menu, At: time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)}
	commit(t, s, conv, "e2", bot.Change{Session: sampleSession(conv), Transcript: []bot.TranscriptEntry{fresh}})
	got, err := s.Transcript(ctx, conv, 0)
	if err != nil || !reflect.DeepEqual(got, append(old, fresh)) {
		t.Errorf("Transcript() = %+v, %v\nwant %+v", got, err, append(old, fresh))
	}
}

// TestPhraseCut: the longest phrase wins, phrases may follow each other and end the
// text, and a text with none is kept whole.
func TestPhraseCut(t *testing.T) {
	b := newPhrasebook("k", []string{"Bạn hãy chọn một mục", "Bạn hãy chọn một mục bên dưới.", "tiny", " — và thêm một câu nữa"})
	b.refs = []uint64{1, 2, 3} // "tiny" is too short to be one
	for _, c := range []struct {
		text string
		want []any
	}{
		{"Bạn hãy chọn một mục bên dưới.", []any{"", uint64(2)}},
		{"» Bạn hãy chọn một mục bên dưới. — và thêm một câu nữa!", []any{"» ", uint64(2), "", uint64(3), "!"}},
		{"Bạn hãy chọn một mục khác", []any{"", uint64(1), " khác"}},
		{"tiny tiny tiny tiny tiny", nil},
		{"", nil},
	} {
		if got := b.cut(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("cut(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}

// TestEntryRecord: a record reads back whatever its fields hold, and a broken one is
// an error, not a panic.
func TestEntryRecord(t *testing.T) {
	s, _ := newStore(t)
	lines := append(conversationLines(),
		bot.TranscriptEntry{Dir: bot.Inbound, Kind: "a_kind_of_tomorrow", EventID: strings.Repeat("9", 300), Text: strings.Repeat("ở", 2000)},
		bot.TranscriptEntry{Dir: bot.Outgoing, Kind: "text", At: time.UnixMilli(-5).UTC()})
	for _, e := range lines {
		b, err := s.encodeEntry(e, false)
		if err != nil {
			t.Fatal(err)
		}
		got, parts, err := decodeEntry(string(b))
		if err != nil || parts != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("decode(encode(%+v)) = %+v, %v, %v", e, got, parts, err)
		}
		for n := range len(b) {
			if _, _, err := decodeEntry(string(b[:n])); err == nil && n < len(b) && b[1]&entryTailed == 0 {
				t.Errorf("a record cut to %d of %d bytes decoded", n, len(b))
			}
		}
	}
	if _, _, err := decodeEntry("\x02\x00\x00\x00\x40"); err == nil {
		t.Error("an unknown kind code decoded")
	}
}

// TestPhraseNumberNeverReused: a number whose phrase was deleted from the registry (by
// hand) is not given to another phrase: lines that name it must not change their words.
func TestPhraseNumberNeverReused(t *testing.T) {
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	a := newPhraseStore(t, prefix, welcome, menu)
	if !a.phrasesReady(ctx) {
		t.Fatal("phrases not registered")
	}
	if err := a.c.HDel(ctx, a.phrases.key, "1").Err(); err != nil {
		t.Fatal(err)
	}
	b := newPhraseStore(t, prefix, "Một câu mới của phiên bản sau.")
	if !b.phrasesReady(ctx) || b.phrases.refs[0] != 3 {
		t.Errorf("new phrase got %v, want 3 (past the highest, 2)", b.phrases.refs)
	}
}
