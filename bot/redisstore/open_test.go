package redisstore

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/sangkien/sangkien/bot"
)

// Without a URL, Open starts an embedded server that answers, and Close stops it.
func TestOpenEmbedded(t *testing.T) {
	c, err := Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() {
		t.Error("Embedded() = false without a URL")
	}
	if err := c.Client.Ping(t.Context()).Err(); err != nil {
		t.Errorf("ping: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// The embedded server runs the store's scripts: an event is committed, refused when
// delivered again, and its transcript reads back through the phrases.
func TestEmbeddedRunsEvents(t *testing.T) {
	c, err := Open("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	s := New(c.Client, Options{Phrases: []string{welcome, menu}, Logger: slog.New(slog.DiscardHandler)})
	conv := bot.ConversationRef{Channel: bot.Terminal, ID: "local"}
	line := bot.TranscriptEntry{Dir: bot.Outgoing, EventID: "1/0", Kind: "reply", Text: welcome + "\n\n" + menu, At: at}
	commit(t, s, conv, "1", bot.Change{Session: sampleSession(conv), Transcript: []bot.TranscriptEntry{line}})
	if l := begin(t, s, conv, "1"); !l.Duplicate {
		t.Error("the embedded server ran an event twice")
	}
	tr, err := s.Transcript(t.Context(), conv, 0)
	if err != nil || !reflect.DeepEqual(tr, []bot.TranscriptEntry{line}) {
		t.Errorf("Transcript() = %+v, %v; want %+v", tr, err, line)
	}
	if raw := c.Client.LIndex(t.Context(), s.keys(conv).tr, 0).Val(); strings.Contains(raw, menu) {
		t.Errorf("stored line %s holds the phrase whole", raw)
	}
}
