package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// closedPrograms: "old" closed the day before the test; "same" has the old one's
// field, "single" one other field, "many" two others; "later" opens on 15 December.
func closedPrograms() bot.Programs {
	hn := bot.HoChiMinh()
	open, deadline := time.Date(2026, 10, 1, 0, 0, 0, 0, hn), time.Date(2026, 12, 31, 17, 0, 0, 0, hn)
	f := func(id string) bot.Field { return bot.Field{ID: id, Name: bot.Text{VI: id, EN: id}} }
	return bot.Programs{
		{ID: "old", Name: bot.Text{VI: "Cũ", EN: "Old"}, Fields: []bot.Field{f("xe-dap"), f("cong-cong")},
			Opens: open, Deadline: time.Date(2026, 11, 27, 17, 0, 0, 0, hn)},
		{ID: "same", Name: bot.Text{VI: "Cùng lĩnh vực", EN: "Same field"}, Fields: []bot.Field{f("cong-cong"), f("khac")}, Opens: open, Deadline: deadline},
		{ID: "single", Name: bot.Text{VI: "Một lĩnh vực", EN: "One field"}, Fields: []bot.Field{f("canh-quan")}, Opens: open, Deadline: deadline},
		{ID: "many", Name: bot.Text{VI: "Nhiều lĩnh vực", EN: "Many fields"}, Fields: []bot.Field{f("a"), f("b")}, Opens: open, Deadline: deadline},
		{ID: "later", Name: bot.Text{VI: "Sắp mở", EN: "Soon"}, Fields: []bot.Field{f("a")},
			Opens: time.Date(2026, 12, 15, 0, 0, 0, 0, hn), Deadline: time.Date(2027, 6, 30, 0, 0, 0, 0, hn)},
	}
}

// closedHarness is a harness over ps with a finished draft for "old" at its review.
func closedHarness(t *testing.T, ps bot.Programs) *harness {
	t.Helper()
	h := newHarness(t, "en", testStart)
	r, err := NewRouter(Config{Programs: ps, Catalog: testCatalog(t), Refs: h.refs, Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	h.s.New = false
	h.s.Profile = bot.Profile{Lang: "en", Consent: &bot.Consent{At: testStart.Add(-time.Hour), NoticeVersion: "2026-11"}}
	h.s.State = bot.State{Flow: bot.KindInitiative, Step: "review", Updated: testStart, Draft: &bot.Draft{ID: "d1",
		Proposal: bot.Proposal{Kind: bot.KindInitiative, ProgramID: "old", Field: "cong-cong", Title: "More buses at night",
			Description: strings.Repeat("Night buses would help shift workers get home safely. ", 2), Benefit: "Safer trips home after work.",
			LocationText: "Cau Giay", Attachments: []bot.Attachment{{Kind: bot.Photo, Ref: "p1", Size: 1000}}},
		SubmitterContact: bot.SubmitterContact{Name: "Anna Müller", Phone: "+84987654321"}, Started: testStart.Add(-time.Hour)}}
	return h
}

// press runs one button press and returns its result.
func (h *harness) pressed(payload string) bot.Result {
	h.t.Helper()
	h.n++
	h.now = h.now.Add(30 * time.Second)
	res, err := h.r.Respond(context.Background(), h.s, bot.Event{ID: fmt.Sprintf("ev-%d", h.n), Conversation: h.s.Conversation,
		Kind: bot.EventButton, Payload: payload, At: h.now})
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func payloads(r bot.Reply) []string {
	var out []string
	for _, c := range r.Choices {
		out = append(out, c.Payload)
	}
	return out
}

func lastReply(t *testing.T, res bot.Result) bot.Reply {
	t.Helper()
	if len(res.Replies) == 0 {
		t.Fatal("no reply")
	}
	return res.Replies[len(res.Replies)-1]
}

// At submit, a draft whose program closed stays whole at the closed step, which offers
// every open program, feedback and keeping it; with none open, feedback and keeping.
func TestClosedAtSubmitKeepsTheDraft(t *testing.T) {
	h := closedHarness(t, closedPrograms())
	before := *h.s.State.Draft
	res := h.pressed("submit")
	q := lastReply(t, res)
	if res.Submission != nil || h.s.State.Step != "closed" || h.s.State.Flow != bot.KindInitiative {
		t.Fatalf("after submit: %+v, state %+v", res.Submission, h.s.State)
	}
	if d := h.s.State.Draft; d.Title != before.Title || d.ProgramID != "old" || d.Name != before.Name || len(d.Attachments) != 1 {
		t.Errorf("the draft changed: %+v", d)
	}
	if want := []string{"move:same", "move:single", "move:many", "as_feedback", "keep"}; !slices.Equal(payloads(q), want) {
		t.Errorf("choices %v, want %v", payloads(q), want)
	}
	if !strings.Contains(q.Text, `"Old"`) || !strings.Contains(q.Text, "another open program") {
		t.Errorf("the question: %q", q.Text)
	}

	alone := closedHarness(t, closedPrograms()[:1])
	q = lastReply(t, alone.pressed("submit"))
	if want := []string{"as_feedback", "keep"}; !slices.Equal(payloads(q), want) || strings.Contains(q.Text, "another open program") {
		t.Errorf("with no other program open: %q %v", q.Text, payloads(q))
	}
}

// Sending the draft to another program: one with its field goes straight back to the
// review; one with a single field takes it; one with others asks the field, then the
// review; a program that closed meanwhile is a wrong answer. Then it is submitted to
// the new program.
func TestClosedMovesToAnotherProgram(t *testing.T) {
	for _, tc := range []struct {
		program, step, field string
	}{
		{"same", "review", "cong-cong"},
		{"single", "review", "canh-quan"},
		{"many", "field", ""},
	} {
		h := closedHarness(t, closedPrograms())
		h.pressed("submit")
		res := h.pressed("move:" + tc.program)
		st := h.s.State
		if st.Step != tc.step || st.Draft.ProgramID != tc.program || st.Draft.Field != tc.field || !strings.Contains(res.Replies[0].Text, "now goes to") {
			t.Errorf("%s: state %s, draft %s/%q, replies %+v", tc.program, st.Step, st.Draft.ProgramID, st.Draft.Field, res.Replies)
			continue
		}
		if tc.step == "field" {
			if !st.Editing || !slices.Equal(payloads(lastReply(t, res)), []string{"field:a", "field:b"}) {
				t.Errorf("%s: the field question %+v, editing %v", tc.program, lastReply(t, res), st.Editing)
			}
			h.pressed("field:b")
			if h.s.State.Step != "review" {
				t.Fatalf("%s: after the field, at %s; want the review", tc.program, h.s.State.Step)
			}
		}
		res = h.pressed("submit")
		if s := res.Submission; s == nil || s.Kind != bot.KindInitiative || s.ProgramID != tc.program || s.Title != "More buses at night" || s.ID != "d1" {
			t.Errorf("%s: submission %+v", tc.program, res.Submission)
		}
	}
	h := closedHarness(t, closedPrograms())
	h.pressed("submit")
	for _, p := range []string{"move:later", "move:old", "move:nowhere"} {
		h.pressed(p)
		if h.s.State.Step != "closed" || h.s.State.Draft.ProgramID != "old" {
			t.Errorf("%s: state %+v", p, h.s.State)
		}
	}
	if h.s.State.Misses != 3 {
		t.Errorf("%d misses, want 3", h.s.State.Misses)
	}
}

// Sending it as feedback: a feedback submission about the closed program, under a
// feedback reference, with everything the citizen wrote and their contact; the flow
// ends, and "my submissions" shows it by its title.
func TestClosedSendsAsFeedback(t *testing.T) {
	h := closedHarness(t, closedPrograms())
	h.pressed("submit")
	res := h.pressed("as_feedback")
	s := res.Submission
	if s == nil || s.Kind != bot.KindFeedback || !strings.HasPrefix(s.Reference, "GY-2026-") || s.Topic != topicProgram ||
		s.TopicRef != "old" || s.ProgramID != "old" || s.Title != "More buses at night" || s.Benefit == "" || s.Description == "" ||
		s.LocationText != "Cau Giay" || len(s.Attachments) != 1 || s.Contact.Name != "Anna Müller" || s.ConsentAt.IsZero() {
		t.Fatalf("submission %+v", s)
	}
	if h.s.State.Flow != "" || h.s.State.Draft != nil {
		t.Errorf("state after: %+v", h.s.State)
	}
	subs := h.s.Profile.Submissions
	if len(subs) != 1 || subs[0].Kind != bot.KindFeedback || subs[0].Title != "More buses at night" {
		t.Errorf("my submissions: %+v", subs)
	}
}

// Keeping it: the menu, the draft untouched at the closed step; coming back to it
// asks the question again, with the programs open by then.
func TestClosedKeepsForLater(t *testing.T) {
	h := closedHarness(t, closedPrograms())
	h.pressed("submit")
	res := h.pressed("keep")
	if res.Submission != nil || h.s.State.Step != "closed" || h.s.State.Draft == nil || h.s.State.Draft.Title != "More buses at night" ||
		len(lastReply(t, res).Choices) != 6 {
		t.Fatalf("after keep: state %+v, replies %+v", h.s.State, res.Replies)
	}
	h.now = time.Date(2026, 12, 16, 9, 0, 0, 0, bot.HoChiMinh()) // "later" opened meanwhile
	if q := lastReply(t, h.pressed("cmd:initiative")); !slices.Contains(payloads(q), "continue") {
		t.Fatalf("coming back: %+v", q)
	}
	q := lastReply(t, h.pressed("continue"))
	if want := []string{"move:same", "move:single", "move:many", "move:later", "as_feedback", "keep"}; h.s.State.Step != "closed" || !slices.Equal(payloads(q), want) {
		t.Errorf("resumed at %s with %v, want the closed question with %v", h.s.State.Step, payloads(q), want)
	}
}

// "Remind me" follows a program that has not closed (once however often pressed),
// ends an empty draft at the program question but keeps one with answers, tells one
// who said stop how to hear it, and follows nothing for a closed or unknown program.
func TestRemindMe(t *testing.T) {
	h := closedHarness(t, closedPrograms())
	h.s.State = bot.State{Flow: bot.KindInitiative, Step: "program", Updated: h.now, Draft: &bot.Draft{ID: "d0", Proposal: bot.Proposal{Kind: bot.KindInitiative}}}
	res := h.pressed("remind:later")
	if !slices.Equal(h.s.Profile.Programs, []string{"later"}) || h.s.State.Flow != "" ||
		!slices.Equal(payloads(lastReply(t, res)), []string{"cmd:initiative", "cmd:menu"}) {
		t.Errorf("at the program question: follows %v, state %+v, replies %+v", h.s.Profile.Programs, h.s.State, res.Replies)
	}
	h.pressed("remind:later")
	h.pressed("remind:old")
	h.pressed("remind:nowhere")
	if !slices.Equal(h.s.Profile.Programs, []string{"later"}) {
		t.Errorf("follows %v, want later once", h.s.Profile.Programs)
	}

	h = closedHarness(t, closedPrograms()) // a draft at its review
	h.s.Profile.OptedOut = true
	res = h.pressed("remind:many")
	if !slices.Equal(h.s.Profile.Programs, []string{"many"}) || h.s.State.Step != "review" || h.s.State.Draft.Title == "" ||
		len(res.Replies) != 2 || !slices.Equal(payloads(res.Replies[0]), []string{"cmd:subscribe"}) || !strings.Contains(res.Replies[0].Text, "turned announcements off") {
		t.Errorf("during a draft, opted out: follows %v, state %+v, replies %+v", h.s.Profile.Programs, h.s.State, res.Replies)
	}
}

// A reminder's button is its program's deep link: one with no draft starts an
// initiative in that program; one with a draft is offered it back.
func TestReminderButtonOpensItsProgram(t *testing.T) {
	h := closedHarness(t, closedPrograms())
	h.s.State = bot.State{}
	h.pressed("cmd:initiative:many")
	if d := h.s.State.Draft; h.s.State.Flow != bot.KindInitiative || d == nil || d.ProgramID != "many" {
		t.Errorf("no draft: state %+v, draft %+v; want an initiative in the program", h.s.State, d)
	}
	h = closedHarness(t, closedPrograms()) // a draft at its review
	res := h.pressed("cmd:initiative:many")
	if h.s.State.Step != "review" || !slices.Contains(payloads(lastReply(t, res)), "continue") {
		t.Errorf("a draft: state %+v, replies %+v; want it offered back", h.s.State, res.Replies)
	}
}
