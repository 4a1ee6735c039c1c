package bot_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// tallies is the real store, recording the tally of each change it commits.
type tallies struct {
	bot.Store
	got []bot.Tally
}

func (s *tallies) Commit(ctx context.Context, l *bot.Lease, c bot.Change) error {
	s.got = append(s.got, c.Tally)
	return s.Store.Commit(ctx, l, c)
}

// steps moves through an initiative as the citizen's text says: "go <step> [program]"
// puts the draft at a step, "send" submits it, "human" asks for a person, "quit"
// leaves the flow. It stands for the flows the way the funnel sees them.
type steps struct{}

func (steps) Respond(_ context.Context, s *bot.Session, ev bot.Event) (bot.Result, error) {
	f := strings.Fields(ev.Text)
	switch {
	case ev.Kind.FromStaff():
		s.Profile.Mode = bot.ModeHuman
		return bot.Result{Replies: []bot.Reply{{Text: ev.Text}}}, nil
	case len(f) >= 2 && f[0] == "go":
		if s.State.Draft == nil {
			s.State.Draft = &bot.Draft{ID: "d-" + ev.ID, Proposal: bot.Proposal{Kind: bot.KindInitiative}, Started: ev.At}
		}
		if len(f) == 3 {
			s.State.Draft.ProgramID = f[2]
		}
		s.State.Flow, s.State.Step = bot.KindInitiative, f[1]
	case ev.Text == "send":
		d := s.State.Draft
		sub := &bot.Submission{ID: d.ID, Proposal: d.Proposal, SubmittedAt: ev.At}
		s.State = bot.State{}
		return bot.Result{Submission: sub}, nil
	case ev.Text == "human":
		s.Profile.Mode = bot.ModeHuman
	case ev.Text == "quit":
		s.State = bot.State{}
	}
	return bot.Result{}, nil
}

// The engine tallies each event: the first of a conversation, the first message of a
// day, each funnel step once per draft (steps passed without a question too, none
// again after "back" or an edit), the submission with its time from the draft's start,
// and the first staff answer with the time the citizen began to wait.
func TestEngineTalliesEachEvent(t *testing.T) {
	ctx := context.Background()
	st := &tallies{Store: freshStore(t)}
	at := time.Date(2026, 12, 1, 23, 0, 0, 0, bot.HoChiMinh())
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: steps{}, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	run := func(by time.Duration, ev bot.Event) bot.Tally {
		t.Helper()
		n++
		at = at.Add(by)
		ev.ID, ev.Conversation, ev.At = "t"+string(rune('a'+n)), conv, at
		if ev.Kind == "" {
			ev.Kind = bot.EventText
		}
		if _, err := e.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
		return st.got[len(st.got)-1]
	}
	say := func(by time.Duration, text string) bot.Tally {
		t.Helper()
		return run(by, bot.Event{Text: text})
	}
	tg := bot.Telegram
	started := at.Add(time.Minute)
	for _, c := range []struct {
		by   time.Duration
		text string
		want bot.Tally
	}{
		{time.Minute, "go consent", bot.Tally{Day: "2026-12-01", Channel: tg, NewConversation: true, Active: true, Message: true,
			Steps: []string{"consent"}, StepProgram: bot.NoProgram}},
		// Past midnight in Hanoi: a new day, and a program chosen; "program" answered
		// itself on the way to "field".
		{time.Hour, "go field giao-thong", bot.Tally{Day: "2026-12-02", Channel: tg, Active: true, Message: true,
			Steps: []string{"program", "field"}, StepProgram: "giao-thong"}},
		{time.Minute, "go title", bot.Tally{Day: "2026-12-02", Channel: tg, Message: true, Steps: []string{"title"}, StepProgram: "giao-thong"}},
		{time.Minute, "go field", bot.Tally{Day: "2026-12-02", Channel: tg, Message: true}}, // back
		{time.Minute, "go review", bot.Tally{Day: "2026-12-02", Channel: tg, Message: true,
			Steps:       []string{"description", "benefit", "location", "attachments", "name", "phone", "email", "review"},
			StepProgram: "giao-thong"}},
		{time.Minute, "go title", bot.Tally{Day: "2026-12-02", Channel: tg, Message: true}}, // an edit from the review
		{time.Minute, "go review", bot.Tally{Day: "2026-12-02", Channel: tg, Message: true}},
	} {
		if got := say(c.by, c.text); !reflect.DeepEqual(got, c.want) {
			t.Fatalf("%q: tally %+v, want %+v", c.text, got, c.want)
		}
	}
	got := say(10*time.Minute, "send")
	want := bot.Tally{Day: "2026-12-02", Channel: tg, Message: true, Steps: []string{bot.FunnelSubmitted}, StepProgram: "giao-thong",
		Submitted: &bot.SubmittedTally{Kind: bot.KindInitiative, Program: "giao-thong", Took: at.Sub(started)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("send: tally %+v %+v, want %+v %+v", got, got.Submitted, want, want.Submitted)
	}
	if want := 75 * time.Minute; got.Submitted.Took != want {
		t.Errorf("took %v, want %v", got.Submitted.Took, want)
	}

	// A new draft counts from its own start: consent again.
	if got := say(time.Minute, "go consent"); !reflect.DeepEqual(got.Steps, []string{"consent"}) {
		t.Errorf("a new draft: steps %v", got.Steps)
	}
	say(time.Minute, "quit")
	asked := say(time.Minute, "human")
	if asked.Answer != nil {
		t.Errorf("asking is no answer: %+v", asked.Answer)
	}
	waitingSince := at
	answer := run(20*time.Minute, bot.Event{Kind: bot.EventStaffReply, StaffEmail: "lan@hanoi.gov.vn", Staff: "Lan", Text: "Chào bạn"})
	a := answer.Answer
	if answer.Day != "2026-12-02" || answer.Message || answer.Active || a == nil ||
		!a.WaitingSince.Equal(waitingSince) || !a.Answered.Equal(at) {
		t.Errorf("first answer: %+v %+v, want waiting since %v, answered %v", answer, a, waitingSince, at)
	}
	second := run(time.Minute, bot.Event{Kind: bot.EventStaffReply, StaffEmail: "lan@hanoi.gov.vn", Staff: "Lan", Text: "Bạn chờ nhé"})
	if !second.Empty() {
		t.Errorf("a second answer, nobody waiting: %+v", second)
	}
}
