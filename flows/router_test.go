package flows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

func TestNewRouterNeedsCatalogAndRefs(t *testing.T) {
	if _, err := NewRouter(Config{Refs: newFakeRefs()}); err == nil {
		t.Error("NewRouter without a catalog: no error")
	}
	if _, err := NewRouter(Config{Catalog: testCatalog(t)}); err == nil {
		t.Error("NewRouter without references: no error")
	}
}

func TestNewRouterDefaults(t *testing.T) {
	r, err := NewRouter(Config{Catalog: testCatalog(t), Refs: newFakeRefs()})
	if err != nil {
		t.Fatal(err)
	}
	if r.notice != "2026-11" {
		t.Errorf("notice version = %q, want 2026-11", r.notice)
	}
	a, b := r.newID(), r.newID()
	if len(a) != 32 || a == b {
		t.Errorf("default ids %q, %q: want 32 hex characters, different", a, b)
	}
	if d := time.Since(r.now()); d < 0 || d > time.Minute {
		t.Errorf("default clock is off by %s", d)
	}
}

// A failing reference counter fails the event, so that the engine stores nothing
// and the redelivered event runs again.
func TestSubmitFailsWhenReferencesFail(t *testing.T) {
	h := newHarness(t, "vi", testStart)
	ctx := context.Background()
	for _, a := range []act{
		command("feedback", ""), press("topic:service"), press("rating:5"), say("Rất tiện lợi"),
	} {
		h.do(ctx, a)
	}
	h.refs.fail = true
	_, err := h.r.Respond(ctx, h.s, bot.Event{ID: "x", Conversation: h.s.Conversation, Kind: bot.EventButton, Payload: "skip"})
	if err == nil || !strings.Contains(err.Error(), "references are down") {
		t.Fatalf("Respond with failing references: err = %v", err)
	}
}

// A session stored by an older version, at a step that no longer exists, restarts
// at the menu rather than stalling.
func TestUnknownStoredStep(t *testing.T) {
	for _, flow := range []string{bot.KindInitiative, "retired-flow"} {
		h := newHarness(t, "en", testStart)
		h.s.New = false
		h.s.State = bot.State{Flow: flow, Step: "retired-step", Draft: &bot.Draft{ID: "d", Kind: flow}, Updated: testStart}
		res, err := h.r.Respond(context.Background(), h.s, bot.Event{ID: "1", Conversation: h.s.Conversation, Kind: bot.EventText, Text: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		if h.s.State.Flow != "" || len(res.Replies) != 1 || len(res.Replies[0].Choices) == 0 {
			t.Errorf("flow %s: state %+v, replies %+v: want the menu", flow, h.s.State, res.Replies)
		}
		// Asking the current question there (a language switch) also lands on the menu.
		h.s.State = bot.State{Flow: flow, Step: "retired-step", Updated: testStart}
		res, err = h.r.Respond(context.Background(), h.s, bot.Event{ID: "2", Conversation: h.s.Conversation, Kind: bot.EventButton, Payload: "lang:vi"})
		if err != nil {
			t.Fatal(err)
		}
		if h.s.State.Flow != "" || h.s.Profile.Lang != "vi" || len(res.Replies) != 2 {
			t.Errorf("flow %s after language: state %+v, replies %+v", flow, h.s.State, res.Replies)
		}
	}
}

// The choices of the last reply are remembered, so typed numbers work, and forgotten
// when a reply has none.
func TestOfferedFollowsLastReply(t *testing.T) {
	h := newHarness(t, "vi", testStart)
	ctx := context.Background()
	h.do(ctx, command("start", ""))
	if n := len(h.s.State.Offered); n != 6 {
		t.Fatalf("after the menu, %d choices offered, want 6", n)
	}
	h.do(ctx, press("cmd:human"))
	if h.s.State.Offered != nil {
		t.Errorf("after a reply without choices, offered = %+v", h.s.State.Offered)
	}
}

// The program closing between the question and the answer is a wrong answer, not a crash.
func TestProgramClosesWhileAsked(t *testing.T) {
	h := newHarness(t, "en", time.Date(2026, 11, 30, 16, 50, 0, 0, bot.HoChiMinh))
	ctx := context.Background()
	for _, a := range []act{command("initiative", ""), press("agree")} {
		h.do(ctx, a)
	}
	h.do(ctx, wait(20*time.Minute))
	h.do(ctx, press("program:giao-thong-xanh"))
	if h.s.State.Step != "program" || h.s.State.Misses != 1 {
		t.Errorf("state %+v: want a miss at the program step", h.s.State)
	}
	// Every program closed while the question waits: the question says so.
	h.now = time.Date(2026, 12, 31, 12, 0, 0, 0, bot.HoChiMinh)
	h.s.State.Updated = h.now.Add(-time.Minute)
	res, err := h.r.Respond(ctx, h.s, bot.Event{ID: "z", Conversation: h.s.Conversation, Kind: bot.EventText, Text: "???"})
	if err != nil {
		t.Fatal(err)
	}
	last := res.Replies[len(res.Replies)-1]
	if len(last.Choices) != 2 || last.Choices[0].Payload != "cmd:feedback" {
		t.Errorf("with no program open the program question offers %+v, want feedback and menu", last.Choices)
	}
}

// A typed answer names a button by number, by its whole label, or by the label's first
// words when no other label starts with them.
func TestTypedAnswerNamesAChoice(t *testing.T) {
	choices := []bot.Choice{
		{Label: "📨 Submit initiative", Payload: "submit"},
		{Label: "🗑 Discard draft", Payload: "discard"},
		{Label: "✏️ Title", Payload: "edit:title"},
		{Label: "✏️ Title picture", Payload: "edit:picture"},
		{Label: "Gửi sáng kiến", Payload: "gui"},
	}
	for typed, want := range map[string]string{
		"2": "discard", "2.": "discard", "9": "", "0": "",
		"submit":            "submit",
		"SUBMIT INITIATIVE": "submit",
		"discard":           "discard",
		"title":             "edit:title", // the whole label wins over a longer one
		"title pic":         "",           // only whole words
		"gui":               "gui",
		"gửi sáng":          "gui",
		"su":                "", // too short to name a label
		"initiative":        "", // not the first words
		"submit it now":     "",
	} {
		h := newHarness(t, "en", testStart)
		h.s.State.Offered = choices
		turn := &turn{s: h.s}
		if got := turn.offered(typed); got != want {
			t.Errorf("offered(%q) = %q, want %q", typed, got, want)
		}
	}
}

// Status changes the session cannot tell, or need not: the profile still follows.
func TestStatusChangeEdges(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(*bot.Session)
		change  *bot.StatusChange
		// wantSilent: no notice; wantSubs: what "my submissions" holds afterwards.
		wantSilent bool
		wantSubs   []string
	}{
		{name: "no status", change: nil, wantSilent: true},
		{name: "names no submission", change: &bot.StatusChange{Status: bot.StatusAccepted}, wantSilent: true},
		{name: "citizen blocked the bot", wantSilent: true, wantSubs: []string{"SK-2026-000001 accepted"},
			prepare: func(s *bot.Session) {
				s.Profile.Unreachable = true
				s.Profile.Submissions = []bot.SubmissionSummary{{ID: "a", Reference: "SK-2026-000001", Status: bot.StatusSubmitted}}
			},
			change: &bot.StatusChange{SubmissionID: "a", Status: bot.StatusAccepted}},
		{name: "forgotten submission is remembered again", wantSubs: []string{"SK-2026-000009 rejected"},
			change: &bot.StatusChange{SubmissionID: "z", Reference: "SK-2026-000009", Status: bot.StatusRejected}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "vi", testStart)
			if tt.prepare != nil {
				tt.prepare(h.s)
			}
			offered := []bot.Choice{{Label: "A", Payload: "a"}}
			h.s.State.Offered = offered
			res, err := h.r.Respond(context.Background(), h.s, bot.Event{
				ID: "st", Conversation: h.s.Conversation, Kind: bot.EventStatus, Status: tt.change,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Silent != tt.wantSilent || (len(res.Replies) == 0) != tt.wantSilent {
				t.Errorf("silent=%v with %d replies, want silent=%v", res.Silent, len(res.Replies), tt.wantSilent)
			}
			var subs []string
			for _, s := range h.s.Profile.Submissions {
				subs = append(subs, s.Reference+" "+s.Status)
			}
			if strings.Join(subs, ",") != strings.Join(tt.wantSubs, ",") {
				t.Errorf("submissions = %q, want %q", subs, tt.wantSubs)
			}
			if len(h.s.State.Offered) != 1 || h.s.State.Offered[0] != offered[0] {
				t.Errorf("offered choices changed to %v", h.s.State.Offered)
			}
			if tt.prepare != nil && !h.s.Profile.Unreachable {
				t.Error("a status change made a blocked citizen reachable")
			}
		})
	}
}
