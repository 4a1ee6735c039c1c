package redisstore

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// TestCompactJSON: every value reads back byte for byte, what a citizen wrote is left
// as it is even when it looks like a token or a time, and the usual session shrinks.
func TestCompactJSON(t *testing.T) {
	sess := sampleSession(bot.ConversationRef{Channel: bot.Telegram, ID: "c1"})
	sess.Profile.Consent = &bot.Consent{At: at.Add(123456789), NoticeVersion: "2026-11"}
	sess.Profile.Programs = []string{"thu-do-xanh-2027"}
	sess.Profile.LastInbound = time.Date(2026, 3, 1, 9, 30, 1, 0, time.FixedZone("ICT", 7*3600))
	sess.State.Draft.Proposal.Title = `"updated": true, "2026-03-01T09:30:00Z" \"title\": ` + "\x7f ẞ"
	sess.State.Draft.Proposal.Description = `\`
	prof, _ := json.Marshal(sess.Profile)
	state, _ := json.Marshal(sess.State)
	for _, js := range [][]byte{prof, state, []byte(`{}`), []byte(`{"updated":"0001-01-01T00:00:00Z","x":[true,false,null]}`),
		[]byte(`{"at":"1969-12-31T23:59:59Z","title":"2026-03-01T09:30:00.000000001Z"}`), []byte(`"\\"`),
		[]byte(`{"id":"4565176db34e7470be781b796e91aa03","x":"4565176DB34E7470BE781B796E91AA03","y":"4565176db34e7470be781b796e91aa0"}`)} {
		c := compactJSON(js)
		back, err := expandJSON(c)
		if err != nil || !bytes.Equal(back, js) {
			t.Errorf("expand(compact(%s)) = %s, %v", js, back, err)
		}
	}
	title, _ := json.Marshal(sess.State.Draft.Proposal.Title)
	if c := compactJSON(state); !bytes.Contains(c, title) {
		t.Errorf("the citizen's title was touched: %q", c)
	}
	if c := compactJSON(prof); len(c) > len(prof)*6/10 {
		t.Errorf("profile compacted to %d of %d bytes, want at most 60%%: %q", len(c), len(prof), c)
	}
	// A value of the version before (plain JSON) reads as it is.
	if back, err := expandJSON(prof); err != nil || !bytes.Equal(back, prof) {
		t.Errorf("expand(plain) = %s, %v", back, err)
	}
	for _, broken := range []string{"\x01\x1f", "\x01\x1e", "\x01\x1e\x7f", "\x01\x02\x00\x00", "\x01\x1f\x00", "\x01\x00"} {
		if _, err := expandJSON([]byte(broken)); err == nil {
			t.Errorf("expand(%q): want an error", broken)
		}
	}
}

// TestCompactTokens: the table fits its codes, and no token is there twice.
func TestCompactTokens(t *testing.T) {
	if max := firstTable + 0x7E - 0x21 + 1; len(compactTokens) > max {
		t.Errorf("%d tokens, codes for %d", len(compactTokens), max)
	}
	if len(compactIndex) != len(compactTokens) {
		t.Error("a token is listed twice")
	}
}

// TestSessionOldAndNew: a session written by the version before (plain JSON) loads,
// and the next commit writes it compacted, loading the same.
func TestSessionOldAndNew(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "old-sess"}
	want := sampleSession(conv)
	want.Profile.Consent = &bot.Consent{At: at, NoticeVersion: "2026-11"}
	k := s.keys(conv)
	prof, _ := json.Marshal(want.Profile)
	state, _ := json.Marshal(want.State)
	c.Set(ctx, k.prof, prof, time.Hour)
	c.Set(ctx, k.state, state, time.Hour)
	l := begin(t, s, conv, "e1")
	if !reflect.DeepEqual(l.Session.Profile, want.Profile) || !reflect.DeepEqual(l.Session.State, want.State) {
		t.Fatalf("old session loaded as %+v, want %+v", l.Session, want)
	}
	if err := s.Commit(ctx, l, bot.Change{Session: l.Session}); err != nil {
		t.Fatal(err)
	}
	if raw := c.Get(ctx, k.state).Val(); raw[0] != compactMark || len(raw) >= len(state) {
		t.Errorf("state after a commit = %q, want compacted", raw)
	}
	got, err := s.Session(ctx, conv)
	if err != nil || !reflect.DeepEqual(got.Profile, want.Profile) || !reflect.DeepEqual(got.State, want.State) {
		t.Errorf("Session() = %+v, %v; want %+v", got, err, want)
	}
}

// TestCardKeepsWhatIsSet: a card holds only its fields with a value; one that becomes
// empty is deleted and reads as empty, as an empty one did.
func TestCardKeepsWhatIsSet(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "card1"}
	sess := sampleSession(conv)
	sess.Profile.Mode = bot.ModeHuman
	sess.Profile.Desk = bot.Desk{Status: bot.DeskWaiting, Reason: "asked", WaitingSince: at, Assignee: "lan@hanoi.gov.vn", Opened: at}
	commit(t, s, conv, "e1", bot.Change{Session: sess})
	card, ok, err := s.Card(ctx, conv)
	if err != nil || !ok || card.Assignee != "lan@hanoi.gov.vn" || !card.Human || !card.WaitingSince.Equal(at) {
		t.Fatalf("Card() = %+v, %v, %v", card, ok, err)
	}
	sess.Profile.Mode = ""
	sess.Profile.Desk = bot.Desk{Status: bot.DeskResolved, Resolved: at, Opened: at}
	commit(t, s, conv, "e2", bot.Change{Session: sess, PriorDesk: bot.Desk{Assignee: "lan@hanoi.gov.vn"}})
	fields, err := c.HKeys(ctx, s.keys(conv).card).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		if f == "assignee" || f == "reason" || f == "waiting" || f == "human" || f == "answered" {
			t.Errorf("card keeps the emptied field %q: %v", f, fields)
		}
	}
	card, ok, err = s.Card(ctx, conv)
	if err != nil || !ok || card.Assignee != "" || card.Human || !card.WaitingSince.IsZero() || card.Status != bot.DeskResolved || !card.Opened.Equal(at) {
		t.Errorf("Card() after the resolve = %+v, %v, %v", card, ok, err)
	}
}

// TestCardStaysCompact: a long message is kept on the card as a line that ends in "…"
// within cardTextMax bytes, cut between characters, so that Redis keeps the card as a
// listpack (one value over hash-max-listpack-value would make it a hash table for
// good); a short one is kept whole, and so is the name (canned answers use it).
func TestCardStaysCompact(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "card2"}
	sess := sampleSession(conv)
	sess.State.Draft = &bot.Draft{SubmitterContact: bot.SubmitterContact{Name: "Nguyễn Thị Phương Thảo"}}
	long := "Phố Huế nắng nóng, ít bóng mát cho người đi bộ; cần trồng thêm cây dọc vỉa hè."
	line := bot.TranscriptEntry{At: at, Dir: bot.Inbound, Kind: string(bot.EventText), Text: long}
	commit(t, s, conv, "e1", bot.Change{Session: sess, Transcript: []bot.TranscriptEntry{line}})
	card, ok, err := s.Card(ctx, conv)
	if err != nil || !ok {
		t.Fatalf("Card() = %+v, %v, %v", card, ok, err)
	}
	if got := card.LastText; got != cardText(long) || !strings.HasSuffix(got, "…") {
		t.Errorf("card's last = %q, want %q", got, cardText(long))
	}
	if card.Name != "Nguyễn Thị Phương Thảo" {
		t.Errorf("card's name = %q, want it whole", card.Name)
	}
	if enc := c.ObjectEncoding(ctx, s.keys(conv).card).Val(); enc != "listpack" {
		t.Errorf("the card is a %s, want a listpack", enc)
	}
	if transcript, err := s.Transcript(ctx, conv, 0); err != nil || len(transcript) != 1 || transcript[0].Text != long {
		t.Errorf("Transcript() = %+v, %v: want the whole line", transcript, err)
	}
	line.Text = "Xin chào"
	commit(t, s, conv, "e2", bot.Change{Session: sess, Transcript: []bot.TranscriptEntry{line}})
	if card, _, err := s.Card(ctx, conv); err != nil || card.LastText != "Xin chào" {
		t.Errorf("Card().LastText = %q, %v; want a short line whole", card.LastText, err)
	}
}

// cardText keeps a text of up to cardTextMax bytes whole and cuts a longer one between
// characters, within the bound, ending in "…".
func TestCardText(t *testing.T) {
	a64 := strings.Repeat("a", 64)
	tests := []struct{ in, want string }{
		{"", ""},
		{"Xin chào", "Xin chào"},
		{a64, a64},
		{a64 + "b", strings.Repeat("a", 61) + "…"},
		// "ế" is 3 bytes at 60..62: it would straddle the cut at 61, so it goes whole.
		{strings.Repeat("a", 60) + "ế" + strings.Repeat("b", 10), strings.Repeat("a", 60) + "…"},
		{strings.Repeat("a", 58) + "   " + strings.Repeat("b", 10), strings.Repeat("a", 58) + "…"},
		{strings.Repeat(" ", 70), "…"},
	}
	for _, tt := range tests {
		got := cardText(tt.in)
		if got != tt.want || len(got) > cardTextMax || !utf8.ValidString(got) {
			t.Errorf("cardText(%q) = %q (%d bytes), want %q", tt.in, got, len(got), tt.want)
		}
	}
}

// BenchmarkEncodeTurn measures the process's side of what this file and transcript.go
// add to a commit: a profile and a state compacted, and a turn's two lines (the
// citizen's, and a reply cut into phrases) encoded; then all of it read back.
func BenchmarkEncodeTurn(b *testing.B) {
	s := New(nil, Options{Phrases: []string{welcome, menu, ask, askEnd}})
	s.phrases.refs = []uint64{1, 2, 3, 4}
	for i, t := range s.phrases.texts {
		s.phrases.known[uint64(i+1)] = t
	}
	sess := sampleSession(bot.ConversationRef{Channel: bot.Telegram, ID: "b1"})
	sess.Profile.Consent = &bot.Consent{At: at, NoticeVersion: "2026-11"}
	lines := []bot.TranscriptEntry{
		{Dir: bot.Inbound, EventID: "123456789", Kind: "text", Text: "Lắp thêm đèn đường ở ngõ 12 phố Hàng Bạc", At: at},
		{Dir: bot.Outgoing, EventID: "123456789/0", Kind: "reply", Text: welcome + "\n\n" + menu, At: at},
	}
	b.ReportAllocs()
	for b.Loop() {
		prof, _ := json.Marshal(sess.Profile)
		state, _ := json.Marshal(sess.State)
		cp, cs := compactJSON(prof), compactJSON(state)
		var got bot.Session
		if err := unmarshalCompact(string(cp), &got.Profile); err != nil {
			b.Fatal(err)
		}
		if err := unmarshalCompact(string(cs), &got.State); err != nil {
			b.Fatal(err)
		}
		vals := make([]string, len(lines))
		for i, e := range lines {
			v, err := s.encodeEntry(e, true)
			if err != nil {
				b.Fatal(err)
			}
			vals[i] = string(v)
		}
		if _, err := s.decodeEntries(context.Background(), vals); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlainTurn is BenchmarkEncodeTurn as the version before did it (plain JSON
// throughout), for comparison.
func BenchmarkPlainTurn(b *testing.B) {
	sess := sampleSession(bot.ConversationRef{Channel: bot.Telegram, ID: "b1"})
	sess.Profile.Consent = &bot.Consent{At: at, NoticeVersion: "2026-11"}
	lines := []bot.TranscriptEntry{
		{Dir: bot.Inbound, EventID: "123456789", Kind: "text", Text: "Lắp thêm đèn đường ở ngõ 12 phố Hàng Bạc", At: at},
		{Dir: bot.Outgoing, EventID: "123456789/0", Kind: "reply", Text: welcome + "\n\n" + menu, At: at},
	}
	b.ReportAllocs()
	for b.Loop() {
		prof, _ := json.Marshal(sess.Profile)
		state, _ := json.Marshal(sess.State)
		var got bot.Session
		if err := json.Unmarshal(prof, &got.Profile); err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(state, &got.State); err != nil {
			b.Fatal(err)
		}
		for _, e := range lines {
			v, _ := json.Marshal(e)
			var back bot.TranscriptEntry
			if err := json.Unmarshal(v, &back); err != nil {
				b.Fatal(err)
			}
		}
	}
}
