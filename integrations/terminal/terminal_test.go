package terminal

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
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
	term, err := New(Config{Engine: e, ID: "t1", Lang: "en", Out: &out, Catalog: bottest.Catalog(t)})
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
	for _, w := range []string{"Submissions are written to: sub.jsonl", "🤖 got text", "   second line", "  1. Yes", "  2. No", "(unknown input :dance"} {
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

// speaker answers in the session's language as the engine does: Vietnamese until the
// citizen types "english"; "phone" asks for a contact; "submit" confirms a submission.
type speaker struct{ lang string }

func (s *speaker) Handle(_ context.Context, ev bot.Event) (bot.Outcome, error) {
	if s.lang == "" {
		s.lang = "vi"
	}
	r := bot.Reply{Text: "ok " + ev.Text}
	var sub *bot.Submission
	switch ev.Text {
	case "english":
		s.lang = "en"
	case "phone":
		r.Request = bot.RequestContact
	case "submit":
		sub = &bot.Submission{ID: "s-1"}
	}
	return bot.Outcome{Replies: []bot.Outbound{{Lang: s.lang, Reply: r}}, Submission: sub}, nil
}

// intakeOK takes every submission.
type intakeOK struct{}

func (intakeOK) Deliver(context.Context, bot.Submission) (bot.Receipt, error) {
	return bot.Receipt{}, nil
}

// The terminal's own lines (banner, refused input, the contact hint, the end line) are
// in the citizen's language, and follow it when the citizen switches.
func TestTerminalSpeaksTheCitizensLanguage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.jpg")
	var out strings.Builder
	term, err := New(Config{Engine: &speaker{}, ID: "t2", Out: &out, Catalog: bottest.Catalog(t)})
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		"phone", ":location here", ":location 91 0", ":photo " + missing, ":contact An", ":dance",
		"english", "phone", ":location here", ":photo " + missing, "submit",
	}
	if err := term.Chat(context.Background(), strings.NewReader(strings.Join(lines, "\n")+"\n"), "sub.jsonl"); err != nil {
		t.Fatal(err)
	}
	w := Watch(intakeOK{})
	if _, err := w.Deliver(context.Background(), bot.Submission{ID: "s-1"}); err != nil {
		t.Fatal(err)
	}
	term.Finish(context.Background(), w, "sub.jsonl", time.Second)

	got := out.String()
	vi, en, ok := strings.Cut(got, "🤖 ok english")
	if !ok {
		t.Fatalf("no switch to English in the output:\n%s", got)
	}
	for _, c := range []struct{ part, want string }{
		{vi, "Hồ sơ đã gửi được ghi vào: sub.jsonl"},
		{vi, "[:contact <họ tên> <số điện thoại>]"},
		{vi, "(cách dùng: :location <vĩ độ> <kinh độ>"},
		{vi, "(vĩ độ phải từ -90 đến 90"},
		{vi, "(không tìm thấy tệp " + missing + ")"},
		{vi, "(cách dùng: :contact <họ tên> <số điện thoại>"},
		{vi, "(không có lệnh :dance;"},
		{en, "[:contact <name> <phone>]"},
		{en, "(usage: :location <lat> <lon>"},
		{en, "(no such file: " + missing + ")"},
		{en, "[1 submission(s) written to sub.jsonl]"},
	} {
		if !strings.Contains(c.part, c.want) {
			t.Errorf("output lacks %q:\n%s", c.want, c.part)
		}
	}
	for _, english := range []string{"usage:", "cannot read", "submissions go to", "unknown input"} {
		if strings.Contains(vi, english) {
			t.Errorf("the Vietnamese part holds %q:\n%s", english, vi)
		}
	}
}

// Every refused line names a message of the terminal's own, which both locales hold.
func TestParseErrorsAreLocalized(t *testing.T) {
	cat := bottest.Catalog(t)
	for _, line := range []string{":location", ":location x y", ":contact An", ":photo", ":file", ":photo /no/such/file", ":file " + t.TempDir(), ":dance"} {
		_, err := ParseLine(line)
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Errorf("ParseLine(%q) = %v, want an *InputError", line, err)
			continue
		}
		for _, lang := range []string{"vi", "en"} {
			if s := cat.For(lang).T(ie.ID, ie.Data); s == "["+ie.ID+"]" || strings.Contains(s, "<no value>") {
				t.Errorf("ParseLine(%q): %s renders %q", line, lang, s)
			}
		}
	}
}
