package terminal

import (
	"context"
	"strings"
	"testing"

	"github.com/sangkien/sangkien/bot"
)

// echo answers every event with a reply naming it, two choices and, for the text
// "submit", a submission.
type echo struct{ events []bot.Event }

func (e *echo) Handle(_ context.Context, ev bot.Event) (bot.Outcome, error) {
	e.events = append(e.events, ev)
	out := bot.Outcome{Replies: []bot.Outbound{{Reply: bot.Reply{
		Text:    "got " + string(ev.Kind) + "\nsecond line",
		Choices: []bot.Choice{{Label: "Yes"}, {Label: "No"}},
	}}}}
	if ev.Text == "submit" {
		out.Submission = &bot.Submission{ID: "s-1"}
	}
	return out, nil
}

func TestChatTurnsLinesIntoEvents(t *testing.T) {
	e := &echo{}
	var out strings.Builder
	term, err := New(Config{Engine: e, ID: "t1", Lang: "en", Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	in := strings.NewReader("hello\n\n:dance\n/help me\nsubmit\n:quit\nnever read\n")
	if err := term.Chat(context.Background(), in, "sub.jsonl"); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range e.events {
		kinds = append(kinds, string(ev.Kind))
		if ev.Conversation != (bot.ConversationRef{Channel: bot.Terminal, ID: "t1"}) || ev.Lang != "en" || ev.ID == "" {
			t.Errorf("event %+v: want conversation terminal/t1, lang en and an id", ev)
		}
	}
	want := []string{"command", "text", "command", "text"}
	if strings.Join(kinds, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v (start first, :dance refused, :quit ends)", kinds, want)
	}
	for _, w := range []string{"submissions go to: sub.jsonl", "🤖 got text", "   second line", "  1. Yes", "  2. No", "(unknown input :dance"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	if got := term.Submitted(); len(got) != 1 || got[0] != "s-1" {
		t.Errorf("submitted = %v, want [s-1]", got)
	}
}

func TestConfigCheckNamesTheFlag(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{ID: "local", Lang: "fr"}, "--lang"},
		{Config{ID: "a:b"}, "--id"},
		{Config{ID: "local", Lang: "vi"}, ""},
	} {
		err := c.cfg.Check()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Check(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}
}
