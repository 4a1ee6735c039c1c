package flows

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"reflect"
	"slices"
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
		h.s.State = bot.State{Flow: flow, Step: "retired-step", Draft: &bot.Draft{ID: "d", Proposal: bot.Proposal{Kind: flow}}, Updated: testStart}
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
	if n := len(h.r.Offered(h.s)); n != 6 {
		t.Fatalf("after the menu, %d choices offered, want 6", n)
	}
	// The menu is named, not copied: its labels were most of an idle session's state.
	if !h.s.State.OfferedMenu || h.s.State.Offered != nil {
		t.Errorf("after the menu, state offers %+v (menu %v): want the menu named", h.s.State.Offered, h.s.State.OfferedMenu)
	}
	if got := h.r.Offered(h.s)[0]; got.Payload != "cmd:initiative" || !strings.Contains(got.Label, "Gửi sáng kiến") {
		t.Errorf("the menu's first choice = %+v", got)
	}
	// For versions before the named menu (a rolling upgrade), the labels are kept too.
	legacy := newHarness(t, "vi", testStart)
	legacy.r.legacyMenu = true
	legacy.do(ctx, command("start", ""))
	if st := legacy.s.State; !st.OfferedMenu || !slices.Equal(st.Offered, legacy.r.Offered(legacy.s)) {
		t.Errorf("with LegacyMenu, state offers %+v (menu %v): want the menu named and its labels kept", st.Offered, st.OfferedMenu)
	}
	// A number typed at the named menu is its button, in the citizen's language too.
	en := newHarness(t, "en", testStart)
	en.do(ctx, command("start", ""))
	if got := en.r.Offered(en.s); len(got) != 6 || got[1].Label != "💬 Send feedback" {
		t.Errorf("the English menu offers %+v", got)
	}
	en.do(ctx, say("2"))
	if en.s.State.Flow != bot.KindFeedback {
		t.Errorf("after 2 typed at the menu, flow %q, want feedback", en.s.State.Flow)
	}
	for _, a := range []act{press("cmd:initiative"), press("agree"), press("program:do-thi-thong-minh"), press("field:moi-truong")} {
		h.do(ctx, a)
	}
	if h.s.State.Step != "title" {
		t.Fatalf("at step %q, want the title question", h.s.State.Step)
	}
	if h.s.State.Offered != nil || h.s.State.OfferedMenu {
		t.Errorf("after a reply without choices, offered = %+v (menu %v)", h.s.State.Offered, h.s.State.OfferedMenu)
	}
}

// The program closing between the question and the answer is a wrong answer, not a crash.
func TestProgramClosesWhileAsked(t *testing.T) {
	h := newHarness(t, "en", time.Date(2026, 11, 30, 16, 50, 0, 0, bot.HoChiMinh()))
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
	h.now = time.Date(2026, 12, 31, 12, 0, 0, 0, bot.HoChiMinh())
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
		// Deliberate choices: never a typed number, never the first words of the label.
		{Label: "✏️ Rewrite from scratch", Payload: "clear"},
		{Label: "🔄 Start over", Payload: "restart"},
		{Label: "🤖 Back to the assistant", Payload: "cmd:cancel"},
	}
	for typed, want := range map[string]string{
		"2": "discard", "2.": "discard", "9": "", "0": "",
		"6": "", "7": "", "8": "",
		"rewrite":               "",
		"rewrite from scratch":  "clear",
		"REWRITE FROM SCRATCH!": "clear", // the whole label, folded
		"start over":            "restart",
		"start":                 "",
		"back":                  "",
		"back to the assistant": "cmd:cancel",
		"submit":                "submit",
		"SUBMIT INITIATIVE":     "submit",
		"discard":               "discard",
		"title":                 "edit:title", // the whole label wins over a longer one
		"title pic":             "",           // only whole words
		"gui":                   "gui",
		"gửi sáng":              "gui",
		"su":                    "", // too short to name a label
		"initiative":            "", // not the first words
		"submit it now":         "",
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

// A digit typed where text or files are expected never takes a choice that throws the
// work away ("Rewrite from scratch", "Remove the files sent"); the button still does.
func TestTypedDigitKeepsWork(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "en", testStart)
	for _, a := range []act{
		command("initiative", ""), press("agree"), press("program:do-thi-thong-minh"), press("field:moi-truong"),
		say("Green roofs on school buildings"), say("Schools are hot in summer."),
	} {
		h.do(ctx, a)
	}
	h.do(ctx, say("2"))
	if d := h.s.State.Draft.Description; !strings.HasPrefix(d, "Schools are hot in summer.") {
		t.Errorf("after a typed 2 the description is %q: the draft's text was lost", d)
	}
	h.do(ctx, press("clear"))
	if d := h.s.State.Draft.Description; d != "" {
		t.Errorf("after the Rewrite button the description is %q, want it empty", d)
	}

	h.s.State = bot.State{Flow: bot.KindInitiative, Step: "attachments", Updated: h.now,
		Draft: &bot.Draft{ID: "d", Proposal: bot.Proposal{Kind: bot.KindInitiative, ProgramID: "do-thi-thong-minh", Field: "moi-truong"}}}
	h.do(ctx, send("", photo("p1")))
	h.do(ctx, say("2"))
	if n := len(h.s.State.Draft.Attachments); n != 1 {
		t.Errorf("after a typed 2 the draft has %d files, want 1", n)
	}
	h.do(ctx, say("remove the files sent"))
	if n := len(h.s.State.Draft.Attachments); n != 0 {
		t.Errorf("after the whole label typed the draft has %d files, want 0", n)
	}
}

// A shared location must be a place on Earth: NaN and infinities are wrong input.
func TestLocationMustBeFinite(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name     string
		lat, lon float64
		taken    bool
		far      bool // taken, and questioned: outside Hà Nội
	}{
		{"Hoan Kiem", 21.028511, 105.854167, true, false},
		{"edges", -90, 180, true, true},
		{"lat NaN", nan, 105.8, false, false},
		{"lon NaN", 21.0, nan, false, false},
		{"lat +Inf", inf, 105.8, false, false},
		{"lat -Inf", -inf, 105.8, false, false},
		{"lon +Inf", 21.0, inf, false, false},
		{"lon -Inf", 21.0, -inf, false, false},
		{"lat 91", 91, 105.8, false, false},
		{"lon -181", 21.0, -181, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "vi", testStart)
			h.s.New = false
			h.s.State = bot.State{Flow: bot.KindInitiative, Step: "location", Updated: h.now,
				Draft: &bot.Draft{ID: "d", Proposal: bot.Proposal{Kind: bot.KindInitiative, ProgramID: "do-thi-thong-minh", Field: "moi-truong"}}}
			h.do(context.Background(), place(tt.lat, tt.lon, ""))
			d := h.s.State.Draft
			if tt.taken {
				wantStep, wantPending := "attachments", ""
				if tt.far {
					wantStep, wantPending = "location", pendingFarPoint
				}
				if h.s.State.Step != wantStep || h.s.State.Pending != wantPending || d.Location == nil {
					t.Errorf("step %q, pending %q, location %v: want it taken at %s, pending %q",
						h.s.State.Step, h.s.State.Pending, d.Location, wantStep, wantPending)
				}
				return
			}
			if h.s.State.Step != "location" || h.s.State.Misses != 1 || d.Location != nil {
				t.Errorf("step %q, misses %d, location %v: want a miss at the location step",
					h.s.State.Step, h.s.State.Misses, d.Location)
			}
		})
	}
}

// reviewDraft is a complete initiative draft at the review.
func reviewDraft(t *testing.T, h *harness) {
	t.Helper()
	h.s.New = false
	h.s.Profile.Lang = "en"
	h.s.Profile.Consent = &bot.Consent{At: testStart, NoticeVersion: "2026-11"}
	h.s.State = bot.State{Flow: bot.KindInitiative, Step: "review", Updated: h.now,
		History: []string{"program", "field", "title", "description", "benefit", "location", "attachments", "name", "phone", "email"},
		Draft: &bot.Draft{ID: "d", Started: testStart, Proposal: bot.Proposal{
			Kind: bot.KindInitiative, ProgramID: "do-thi-thong-minh",
			Field: "moi-truong", Title: "Green roofs on school buildings",
			Description: strings.Repeat("Schools are hot in summer. ", 3), Benefit: "Cooler classrooms for pupils.",
		}, SubmitterContact: bot.SubmitterContact{Name: "Anna Müller", Phone: "+84912345678"}}}
}

// Submit refuses a draft without a name or a phone and sends the citizen back to that
// step, then to the review; no reference number is used up.
func TestSubmitNeedsNameAndPhone(t *testing.T) {
	tests := []struct {
		name     string
		clear    func(*bot.Draft)
		step     string
		answer   act
		wantText string
	}{
		{"no name", func(d *bot.Draft) { d.Name = "" }, "name", say("Anna Müller"), "name"},
		{"no phone", func(d *bot.Draft) { d.Phone = "" }, "phone", say("0912 345 678"), "phone number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, "en", testStart)
			reviewDraft(t, h)
			tt.clear(h.s.State.Draft)
			res, err := h.r.Respond(ctx, h.s, bot.Event{ID: "s", Conversation: h.s.Conversation, Kind: bot.EventButton, Payload: "submit"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Submission != nil {
				t.Fatalf("a draft without its %s was submitted", tt.step)
			}
			if st := h.s.State; st.Step != tt.step || !st.Editing || st.Flow != bot.KindInitiative {
				t.Fatalf("state %+v: want the %s step, editing", st, tt.step)
			}
			if len(res.Replies) != 2 || !strings.Contains(res.Replies[0].Text, tt.wantText) {
				t.Errorf("replies %+v: want the reason, then the question", res.Replies)
			}
			if n := h.refs.next["SK-2026"]; n != 123 {
				t.Errorf("a reference number was used up: next is %d", n)
			}
			h.do(ctx, tt.answer)
			if h.s.State.Step != "review" {
				t.Fatalf("after the answer at step %q, want the review", h.s.State.Step)
			}
			res, err = h.r.Respond(ctx, h.s, bot.Event{ID: "s2", Conversation: h.s.Conversation, Kind: bot.EventButton, Payload: "submit"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Submission == nil || res.Submission.Contact.Name == "" || res.Submission.Contact.Phone == "" {
				t.Errorf("submission %+v: want one with a name and a phone", res.Submission)
			}
		})
	}
}

// Feedback may be anonymous, but never leaves with half a contact.
func TestFeedbackNeedsWholeContact(t *testing.T) {
	tests := []struct {
		name        string
		contact     bot.SubmitterContact
		wantStep    string
		wantSubmits bool
	}{
		{name: "anonymous", wantSubmits: true},
		{name: "whole contact", contact: bot.SubmitterContact{Name: "Ha Pham", Phone: "+84356789012"}, wantSubmits: true},
		{name: "name only", contact: bot.SubmitterContact{Name: "Ha Pham"}, wantStep: "phone"},
		{name: "phone only", contact: bot.SubmitterContact{Phone: "+84356789012"}, wantStep: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "vi", testStart)
			h.s.State = bot.State{Flow: bot.KindFeedback, Step: "submitted", Draft: &bot.Draft{
				ID: "f", Proposal: bot.Proposal{Kind: bot.KindFeedback, Topic: topicService, Rating: 4, Comment: "Rất tiện lợi"},
				SubmitterContact: bot.SubmitterContact{Name: tt.contact.Name, Phone: tt.contact.Phone}}}
			tn := &turn{r: h.r, ctx: context.Background(), s: h.s, now: h.now, l: testCatalog(t).For("vi"), filled: map[string]bool{}}
			if err := tn.submitFeedback(); err != nil {
				t.Fatal(err)
			}
			if got := tn.res.Submission != nil; got != tt.wantSubmits {
				t.Fatalf("submitted = %v, want %v", got, tt.wantSubmits)
			}
			if !tt.wantSubmits && (h.s.State.Step != tt.wantStep || h.s.State.Editing) {
				t.Errorf("state %+v: want the %s step", h.s.State, tt.wantStep)
			}
		})
	}
}

// Logs tell conversations apart without naming the chat: the id is masked.
func TestLogsMaskTheConversation(t *testing.T) {
	var buf bytes.Buffer
	h := newHarness(t, "vi", testStart)
	h.s.Conversation.ID = "123456789"
	r, err := NewRouter(Config{Programs: h.r.programs, Catalog: testCatalog(t), Refs: h.refs, Now: func() time.Time { return h.now },
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	ctx := context.Background()
	for _, a := range []act{
		command("feedback", ""), press("topic:service"), press("rating:5"), say("Rất tiện lợi"), press("skip"),
		cityStatus(bot.StatusChange{Reference: "GY-2026-000045", Status: bot.StatusReceived}),
	} {
		h.do(ctx, a)
	}
	out := buf.String()
	if strings.Contains(out, "123456789") {
		t.Errorf("a log line names the conversation:\n%s", out)
	}
	for _, msg := range []string{"feedback submitted", "status change told", "responded"} {
		if !strings.Contains(out, msg) {
			t.Errorf("no %q line logged:\n%s", msg, out)
		}
	}
	if !strings.Contains(out, bot.MaskID(h.s.Conversation.Key())) {
		t.Errorf("the masked conversation is not logged:\n%s", out)
	}
}

// Consent is given only by the notice's own button or a typed yes: a button left under
// an earlier message ("▶️ Continue", "📞 Leave my contact") does not agree to anything.
func TestStaleButtonsDoNotConsent(t *testing.T) {
	for _, stale := range []string{"continue", "yes", "forget:yes"} {
		h := newHarness(t, "vi", testStart)
		ctx := context.Background()
		h.do(ctx, command("initiative", ""))
		h.do(ctx, press(stale))
		if h.s.Profile.Consent != nil || h.s.State.Step != "consent" {
			t.Errorf("button %q: consent %+v at step %q, want none at the consent step", stale, h.s.Profile.Consent, h.s.State.Step)
		}
		h.do(ctx, say("đồng ý"))
		if h.s.Profile.Consent == nil {
			t.Errorf("typed agreement after %q was not taken", stale)
		}
	}
}

// "back" moves the machine too: to a step the flow no longer has, or from one, it
// restarts at the menu rather than stalling; within the flow it reaches the history's
// last step.
func TestBackGoesThroughTheMachine(t *testing.T) {
	tests := []struct {
		name, step string
		history    []string
		wantFlow   string
		wantStep   string
	}{
		{"to the history's last", "benefit", []string{"title", "description"}, bot.KindInitiative, "description"},
		{"to a renamed step", "benefit", []string{"title", "retired-step"}, "", ""},
		{"from a renamed step", "retired-step", []string{"title"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "en", testStart)
			h.s.New = false
			h.s.State = bot.State{Flow: bot.KindInitiative, Step: tt.step, History: tt.history, Updated: testStart,
				Draft: &bot.Draft{ID: "d", Proposal: bot.Proposal{Kind: bot.KindInitiative, ProgramID: "do-thi-thong-minh", Field: "moi-truong"}}}
			h.do(context.Background(), command("back", ""))
			if h.s.State.Flow != tt.wantFlow || h.s.State.Step != tt.wantStep {
				t.Errorf("after back: at %q/%q, want %q/%q", h.s.State.Flow, h.s.State.Step, tt.wantFlow, tt.wantStep)
			}
		})
	}
}

// Staff who answer the citizen from the provider's own tool take the conversation
// over: human mode, nothing sent, the draft and the offered choices kept, the pending
// question lapsed; what the citizen writes next is for staff.
func TestStaffMessageTakesOver(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, "vi", testStart)
	for _, a := range []act{command("initiative", ""), press("agree")} {
		h.do(ctx, a)
	}
	flow, step := h.s.State.Flow, h.s.State.Step
	h.s.State.Pending = pendingForget
	offered := h.s.State.Offered
	res, err := h.r.Respond(ctx, h.s, bot.Event{
		ID: "staff1", Conversation: h.s.Conversation, Kind: bot.EventStaffMessage, Text: "Chào chị, tôi là cán bộ phường.",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Silent || len(res.Replies) != 0 {
		t.Errorf("staff message answered by the bot: silent=%v, %d replies", res.Silent, len(res.Replies))
	}
	if h.s.Profile.Mode != bot.ModeHuman {
		t.Errorf("mode %q after a staff message, want human", h.s.Profile.Mode)
	}
	if h.s.State.Flow != flow || h.s.State.Step != step || h.s.State.Pending != "" {
		t.Errorf("state flow=%q step=%q pending=%q, want %q %q and no pending question",
			h.s.State.Flow, h.s.State.Step, h.s.State.Pending, flow, step)
	}
	if len(h.s.State.Offered) != len(offered) {
		t.Errorf("offered choices changed from %v to %v", offered, h.s.State.Offered)
	}
	res, err = h.r.Respond(ctx, h.s, bot.Event{ID: "c1", Conversation: h.s.Conversation, Kind: bot.EventText, Text: "Dạ vâng, cảm ơn anh"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Silent || len(res.Replies) != 0 {
		t.Errorf("the bot answered the citizen's reply to staff: %d replies", len(res.Replies))
	}
}

// A file the channel could not take from its provider's servers is refused at the step
// with its own message, and nothing enters the draft.
func TestFileElsewhereIsRefusedAtTheStep(t *testing.T) {
	ctx := context.Background()
	for _, lang := range []string{"vi", "en"} {
		h := newHarness(t, lang, testStart)
		h.s.State = bot.State{Flow: bot.KindInitiative, Step: "attachments", Updated: h.now,
			Draft: &bot.Draft{ID: "d", Proposal: bot.Proposal{Kind: bot.KindInitiative, ProgramID: "do-thi-thong-minh", Field: "moi-truong"}}}
		res, err := h.r.Respond(ctx, h.s, bot.Event{ID: "f1", Conversation: h.s.Conversation, Lang: lang,
			Kind: bot.EventUnsupported, Unsupported: bot.UnsupportedFileElsewhere})
		if err != nil {
			t.Fatal(err)
		}
		want := testCatalog(t).For(lang).T("unsupported.file_elsewhere")
		if len(res.Replies) == 0 || res.Replies[0].Text != want {
			t.Errorf("%s: replies %+v, want first %q", lang, res.Replies, want)
		}
		if h.s.State.Step != "attachments" || len(h.s.State.Draft.Attachments) != 0 {
			t.Errorf("%s: step %q with %d files after a refused file", lang, h.s.State.Step, len(h.s.State.Draft.Attachments))
		}
	}
}

// A shared point outside the city is questioned; yes keeps it, no asks again, and
// another point or a typed place answers the location step itself.
func TestLocationOutsideCity(t *testing.T) {
	danang := place(16.0544, 108.2022, "Cầu Rồng")
	tests := []struct {
		name      string
		area      *Area
		acts      []act
		step      string
		pending   string
		location  *bot.Location
		placeText string
	}{
		{"inside Hà Nội: no question", nil, []act{place(21.0285, 105.8542, "")},
			"attachments", "", &bot.Location{Lat: 21.0285, Lon: 105.8542}, ""},
		{"outside: asked", nil, []act{danang},
			"location", pendingFarPoint, &bot.Location{Lat: 16.0544, Lon: 108.2022, Label: "Cầu Rồng"}, ""},
		{"outside, yes: kept", nil, []act{danang, press("far:yes")},
			"attachments", "", &bot.Location{Lat: 16.0544, Lon: 108.2022, Label: "Cầu Rồng"}, ""},
		{"outside, typed yes: kept", nil, []act{danang, say("Đúng rồi")},
			"attachments", "", &bot.Location{Lat: 16.0544, Lon: 108.2022, Label: "Cầu Rồng"}, ""},
		{"outside, typed no: asked again", nil, []act{danang, say("sai rồi")},
			"location", "", nil, ""},
		{"outside, có: kept", nil, []act{danang, say("có")},
			"attachments", "", &bot.Location{Lat: 16.0544, Lon: 108.2022, Label: "Cầu Rồng"}, ""},
		{"outside, no: asked again, point dropped", nil, []act{danang, press("far:no")},
			"location", "", nil, ""},
		{"outside, then a point inside", nil, []act{danang, place(21.0285, 105.8542, "")},
			"attachments", "", &bot.Location{Lat: 21.0285, Lon: 105.8542}, ""},
		{"outside, then a typed place", nil, []act{danang, say("Số 1 Tràng Tiền, phường Cửa Nam")},
			"attachments", "", nil, "Số 1 Tràng Tiền, phường Cửa Nam"},
		{"0,0 is questioned", nil, []act{place(0, 0, "")},
			"location", pendingFarPoint, &bot.Location{}, ""},
		{"another city's box", &Area{MinLat: 15.9, MinLon: 107.8, MaxLat: 16.3, MaxLon: 108.4, Name: bot.Text{VI: "Đà Nẵng", EN: "Da Nang"}},
			[]act{danang}, "attachments", "", &bot.Location{Lat: 16.0544, Lon: 108.2022, Label: "Cầu Rồng"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "vi", testStart)
			if tt.area != nil {
				h.r.area = *tt.area
			}
			h.s.New = false
			h.s.Profile.Lang = "vi"
			h.s.State = bot.State{Flow: bot.KindInitiative, Step: "location", Updated: h.now,
				Draft: &bot.Draft{ID: "d", Proposal: bot.Proposal{Kind: bot.KindInitiative, ProgramID: "do-thi-thong-minh", Field: "moi-truong"}}}
			for _, a := range tt.acts {
				h.do(context.Background(), a)
			}
			st := h.s.State
			if st.Step != tt.step || st.Pending != tt.pending || !reflect.DeepEqual(st.Draft.Location, tt.location) || st.Draft.LocationText != tt.placeText {
				t.Errorf("step %q pending %q location %v text %q; want %q %q %v %q\n%s",
					st.Step, st.Pending, st.Draft.Location, st.Draft.LocationText, tt.step, tt.pending, tt.location, tt.placeText, h.out.String())
			}
			if tt.pending == pendingFarPoint && !strings.Contains(h.out.String(), "nằm ngoài địa bàn Hà Nội") {
				t.Errorf("the question does not name Hà Nội:\n%s", h.out.String())
			}
		})
	}
}

// Every way of asking for a person, typed in the middle of a proposal, hands the
// conversation to staff ("cán bộ" is the word the bot itself uses for them).
func TestStaffKeywordsHandOver(t *testing.T) {
	ctx := context.Background()
	for _, text := range []string{"gặp cán bộ", "gap can bo", "cán bộ", "can bo", "Gặp cán bộ", "gặp nhân viên", "talk to a person"} {
		t.Run(text, func(t *testing.T) {
			h := newHarness(t, "vi", testStart)
			for _, a := range []act{command("initiative", ""), press("agree"), press("program:do-thi-thong-minh")} {
				h.do(ctx, a)
			}
			h.do(ctx, say(text))
			if h.s.Profile.Mode != bot.ModeHuman {
				t.Fatalf("after %q the mode is %q, want human", text, h.s.Profile.Mode)
			}
			if d := h.s.State.Draft; d == nil || d.ProgramID != "do-thi-thong-minh" {
				t.Errorf("after %q the draft is %+v: handing over lost it", text, d)
			}
		})
	}
}

func TestParseBox(t *testing.T) {
	a, err := Hanoi.ParseBox(" 20.5, 105.2 ,21.4,106.1")
	if err != nil || a.MinLat != 20.5 || a.MinLon != 105.2 || a.MaxLat != 21.4 || a.MaxLon != 106.1 || a.Name != Hanoi.Name {
		t.Errorf("ParseBox = %+v, %v", a, err)
	}
	for _, bad := range []string{"", "1,2,3", "a,b,c,d", "21.4,106.1,20.5,105.2", "20,105,95,106", "20,-190,21,106"} {
		if _, err := Hanoi.ParseBox(bad); err == nil {
			t.Errorf("ParseBox(%q) succeeded", bad)
		}
	}
}

// A submission the city's system refused for good is not left "Submitted": the citizen
// is told plainly, in their language, that it was not taken yet and that staff know,
// and "my submissions" shows it so.
func TestUndeliveredSubmissionIsToldHonestly(t *testing.T) {
	for lang, want := range map[string][]string{
		"vi": {"chưa tiếp nhận được hồ sơ SK-2026-000004", "Cán bộ đã được báo", "Hệ thống của Thành phố chưa tiếp nhận được"},
		"en": {"could not take your submission SK-2026-000004", "Staff have been alerted", "Not yet taken by the city's system"},
	} {
		h := newHarness(t, lang, testStart)
		h.s.Profile.Lang = lang
		h.s.Profile.Submissions = []bot.SubmissionSummary{{ID: "s4", Reference: "SK-2026-000004", Title: "Ghế đá", Status: bot.StatusSubmitted, Changed: testStart}}
		res, err := h.r.Respond(context.Background(), h.s, bot.Event{
			ID: "intake-refused:s4", Conversation: h.s.Conversation, Kind: bot.EventStatus,
			Status: &bot.StatusChange{SubmissionID: "s4", Status: bot.StatusUndelivered, At: testStart.Add(time.Minute)},
		})
		if err != nil || len(res.Replies) != 1 {
			t.Fatalf("%s: %+v, %v", lang, res, err)
		}
		notice := res.Replies[0].Text
		if strings.Contains(notice, "🎉") || !strings.Contains(notice, want[0]) || !strings.Contains(notice, want[1]) {
			t.Errorf("%s: notice %q", lang, notice)
		}
		list, err := h.r.Respond(context.Background(), h.s, bot.Event{ID: "my", Conversation: h.s.Conversation, Kind: bot.EventCommand, Command: "status"})
		if err != nil || len(list.Replies) == 0 || !strings.Contains(list.Replies[0].Text, want[2]) {
			t.Errorf("%s: my submissions = %+v, %v; want it shown as not taken", lang, list.Replies, err)
		}
	}
}
