package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// desk answers as the flows do, as far as the desk cares: "person" asks for one, "bot"
// goes back to the bot, "huh" is a wrong answer, a reply or a takeover puts a person on
// the conversation, and handing back or resolving gives it to the bot.
type deskFlows struct{}

func (deskFlows) Respond(_ context.Context, s *bot.Session, ev bot.Event) (bot.Result, error) {
	switch {
	case ev.Kind == bot.EventStaffReply:
		s.Profile.Mode = bot.ModeHuman
		return bot.Result{Replies: []bot.Reply{{Text: ev.Text}}}, nil
	case ev.Kind == bot.EventStaffJoin:
		s.Profile.Mode = bot.ModeHuman
	case ev.Kind == bot.EventStaffHandback || ev.Kind == bot.EventStaffResolve:
		s.Profile.Mode = bot.ModeBot
	case ev.Kind == bot.EventStaffNote || ev.Kind == bot.EventStaffAssign:
		return bot.Result{Silent: true}, nil
	case ev.Text == "person":
		s.Profile.Mode = bot.ModeHuman
	case ev.Text == "bot":
		s.Profile.Mode = bot.ModeBot
	case ev.Text == "forget":
		return bot.Result{Forget: true}, nil
	case ev.Text == "huh":
		s.State.Misses++
	default:
		s.State.Misses = 0
	}
	if s.Profile.Mode == bot.ModeHuman && ev.Kind.FromCitizen() {
		return bot.Result{Silent: true}, nil
	}
	return bot.Result{Replies: []bot.Reply{{Text: "ok: " + ev.Text}}}, nil
}

// A conversation's desk follows what the citizen and staff do, and the inbox's
// indexes follow the desk: waiting when the citizen asks for a person (the clock from
// their message), held by the one who took it over, open once answered, waiting again
// when the citizen writes, resolved, reopened by the citizen's next message, and
// waiting when the bot misunderstood three times.
func TestDeskFollowsTheConversation(t *testing.T) {
	ctx := context.Background()
	st := freshStore(t)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: deskFlows{}, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	run := func(ev bot.Event) error {
		n++
		at = at.Add(time.Minute)
		ev.ID, ev.Conversation, ev.At = "d"+time.Duration(n).String(), conv, at
		_, err := e.Handle(ctx, ev)
		return err
	}
	say := func(s string) {
		t.Helper()
		if err := run(bot.Event{Kind: bot.EventText, Text: s}); err != nil {
			t.Fatal(err)
		}
	}
	staff := func(kind bot.EventKind, email, text string) error {
		return run(bot.Event{Kind: kind, StaffEmail: email, Staff: email, Text: text, Payload: text})
	}
	card := func() bot.Card {
		t.Helper()
		c, ok, err := st.Card(ctx, conv)
		if err != nil || !ok {
			t.Fatalf("card: %v %v", ok, err)
		}
		return c
	}
	listed := func(q bot.InboxQuery) bool {
		t.Helper()
		cs, err := st.Conversations(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return len(cs) == 1 && cs[0].Conversation == conv
	}
	waiting := bot.InboxQuery{Status: bot.DeskWaiting}

	say("hello")
	if c := card(); c.Status != bot.DeskOpen || c.LastText != "hello" || listed(waiting) || !listed(bot.InboxQuery{Status: bot.DeskOpen}) {
		t.Fatalf("after a bot answer: %+v", c)
	}
	say("person")
	asked := at
	if c := card(); c.Status != bot.DeskWaiting || c.Reason != bot.WaitAsked || !c.WaitingSince.Equal(asked) ||
		!c.Human || c.LastText != "person" || !listed(waiting) || listed(bot.InboxQuery{Status: bot.DeskOpen}) {
		t.Fatalf("after asking for a person: %+v", c)
	}
	if err := staff(bot.EventStaffJoin, "lan@hanoi.gov.vn", ""); err != nil {
		t.Fatal(err)
	}
	if c := card(); c.Status != bot.DeskWaiting || c.Assignee != "lan@hanoi.gov.vn" || !listed(bot.InboxQuery{Assignee: "lan@hanoi.gov.vn"}) {
		t.Fatalf("after a takeover: %+v (a takeover is not an answer: the clock runs on)", c)
	}
	var held *bot.HeldError
	if err := staff(bot.EventStaffReply, "minh@hanoi.gov.vn", "Tôi đây"); !errors.As(err, &held) || held.By != "lan@hanoi.gov.vn" {
		t.Fatalf("a second operator's reply: %v, want held by lan", err)
	}
	if err := staff(bot.EventStaffReply, "lan@hanoi.gov.vn", "Chào bạn"); err != nil {
		t.Fatal(err)
	}
	answered := at
	if c := card(); c.Status != bot.DeskOpen || !c.Answered.Equal(answered) || !c.Opened.Equal(asked) ||
		c.LastText != "Chào bạn" || listed(waiting) {
		t.Fatalf("after the answer: %+v", c)
	}
	if err := staff(bot.EventStaffNote, "minh@hanoi.gov.vn", "gọi lại chiều nay"); err != nil {
		t.Fatal(err)
	}
	if c := card(); c.LastText != "Chào bạn" {
		t.Errorf("a note became the last text: %q", c.LastText)
	}
	say("cảm ơn")
	if c := card(); c.Status != bot.DeskWaiting || c.Reason != bot.WaitWrote || !c.Answered.Equal(answered) {
		t.Fatalf("after the citizen wrote again: %+v", c)
	}
	if err := staff(bot.EventStaffAssign, "lan@hanoi.gov.vn", "minh@hanoi.gov.vn"); err != nil {
		t.Fatal(err)
	}
	if c := card(); c.Assignee != "minh@hanoi.gov.vn" || listed(bot.InboxQuery{Assignee: "lan@hanoi.gov.vn"}) ||
		!listed(bot.InboxQuery{Assignee: "minh@hanoi.gov.vn"}) {
		t.Fatalf("after assigning to minh: %+v", c)
	}
	if err := staff(bot.EventStaffResolve, "minh@hanoi.gov.vn", ""); err != nil {
		t.Fatal(err)
	}
	if c := card(); c.Status != bot.DeskResolved || c.Human || !listed(bot.InboxQuery{Status: bot.DeskResolved}) ||
		listed(waiting) || listed(bot.InboxQuery{Assignee: "minh@hanoi.gov.vn"}) {
		t.Fatalf("after resolving: %+v", c)
	}
	say("again")
	if c := card(); c.Status != bot.DeskOpen || !c.Opened.Equal(at) || !c.Answered.IsZero() || listed(bot.InboxQuery{Status: bot.DeskResolved}) {
		t.Fatalf("after the citizen came back: %+v", c)
	}
	say("huh")
	say("huh")
	if card().Status != bot.DeskOpen {
		t.Fatal("two misses made the conversation wait")
	}
	say("huh")
	if c := card(); c.Status != bot.DeskWaiting || c.Reason != bot.WaitMisses {
		t.Fatalf("after three misses: %+v", c)
	}
	say("fine")
	if c := card(); c.Status != bot.DeskOpen {
		t.Fatalf("after the bot got past the question: %+v", c)
	}
	if err := run(bot.Event{Kind: bot.EventText, Text: "person"}); err != nil {
		t.Fatal(err)
	}
	if err := staff(bot.EventStaffJoin, "", ""); !errors.Is(err, bot.ErrNotStaff) {
		t.Errorf("a console event without an email: %v", err)
	}
	say("forget")
	if _, ok, err := st.Card(ctx, conv); ok || err != nil || listed(waiting) {
		t.Errorf("a forgotten conversation is still in the inbox (card %v, %v)", ok, err)
	}
}

// Every console page hears which conversation changed: each subscriber is told of a
// change committed after DeskChanges returned, and of a conversation forgotten; a
// subscription ends with its context.
func TestDeskChangesAreTold(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := freshStore(t)
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: deskFlows{}})
	if err != nil {
		t.Fatal(err)
	}
	first, second := st.DeskChanges(ctx), st.DeskChanges(ctx)
	told := func(ch <-chan string, what string) {
		t.Helper()
		select {
		case key := <-ch:
			if key != conv.Key() {
				t.Errorf("%s: told of %q, want %q", what, key, conv.Key())
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: nobody was told", what)
		}
	}
	for _, text := range []string{"hello", "forget"} {
		if _, err := e.Handle(ctx, bot.Event{ID: "c" + text, Conversation: conv, Kind: bot.EventText, Text: text, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		told(first, text+" (first page)")
		told(second, text+" (second page)")
	}
	cancel()
	for range first { // drained, then closed
	}
}
