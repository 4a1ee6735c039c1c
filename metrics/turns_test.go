package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/flows"
)

// twoPrograms are open on the test's clock: with two, the flow asks which one.
var twoPrograms = bot.Programs{
	{ID: "do-thi", Name: bot.Text{VI: "Đô thị thông minh", EN: "Smart city"},
		Fields: []bot.Field{{ID: "so-hoa", Name: bot.Text{VI: "Chuyển đổi số", EN: "Digital services"}},
			{ID: "moi-truong", Name: bot.Text{VI: "Môi trường", EN: "Environment"}}},
		Opens: time.Date(2026, 9, 1, 0, 0, 0, 0, bot.HoChiMinh()), Deadline: time.Date(2027, 1, 1, 0, 0, 0, 0, bot.HoChiMinh())},
	{ID: "giao-thong", Name: bot.Text{VI: "Giao thông xanh", EN: "Green transport"},
		Fields: []bot.Field{{ID: "xe-dap", Name: bot.Text{VI: "Xe đạp", EN: "Cycling"}},
			{ID: "cong-cong", Name: bot.Text{VI: "Xe buýt", EN: "Buses"}}},
		Opens: time.Date(2026, 10, 1, 0, 0, 0, 0, bot.HoChiMinh()), Deadline: time.Date(2027, 1, 1, 0, 0, 0, 0, bot.HoChiMinh())},
}

// city is the real engine and flows on the test's Redis, with a clock that moves a
// minute before each event.
type city struct {
	t   *testing.T
	e   *bot.Engine
	mu  sync.Mutex
	now time.Time
	n   int
}

func newCity(t *testing.T) *city {
	t.Helper()
	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	c := &city{t: t, now: time.Date(2026, 12, 1, 9, 0, 0, 0, bot.HoChiMinh())}
	router, err := flows.NewRouter(flows.Config{Programs: twoPrograms, Catalog: bottest.Catalog(t), Refs: st, Now: c.clock})
	if err != nil {
		t.Fatal(err)
	}
	if c.e, err = bot.NewEngine(bot.EngineConfig{Store: st, Conversation: router, Now: c.clock}); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *city) clock() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// run hands each event to h (the engine, wrapped) after by; it returns the last one
// as run, for a redelivery.
func (c *city) run(h bot.EventHandler, conv bot.ConversationRef, by time.Duration, evs ...bot.Event) bot.Event {
	c.t.Helper()
	var ev bot.Event
	for _, ev = range evs {
		c.mu.Lock()
		c.now = c.now.Add(by)
		c.n++
		c.mu.Unlock()
		ev.ID, ev.Conversation, ev.Lang = fmt.Sprintf("ev-%d", c.n), conv, "vi"
		if out, err := h.Handle(context.Background(), ev); err != nil || out.Duplicate {
			c.t.Fatalf("event %s %q %q: %v (duplicate %v)", ev.Kind, ev.Text, ev.Payload, err, out.Duplicate)
		}
	}
	return ev
}

func say(text string) bot.Event { return bot.Event{Kind: bot.EventText, Text: text} }
func press(p string) bot.Event  { return bot.Event{Kind: bot.EventButton, Payload: p} }
func staff(kind bot.EventKind, text string) bot.Event {
	return bot.Event{Kind: kind, Text: text, Staff: "Nguyễn Thị Lan", StaffEmail: "lan@hanoi.gov.vn"}
}

// A proposal's first steps through the real engine and flows count each step as the
// citizen meets it: reached when asked, answered when the answer moves on, invalid
// when refused, back, and abandoned when the citizen cancels; a redelivered event
// counts nothing again, and a second draft is a new arrival at its steps.
func TestTurnsCountFlowSteps(t *testing.T) {
	m := newMetrics(t)
	c := newCity(t)
	h := m.Events(c.e)
	tg := bot.ConversationRef{Channel: bot.Telegram, ID: "901"}
	c.run(h, tg, time.Minute,
		bot.Event{Kind: bot.EventCommand, Command: "start"}, press("cmd:initiative"), press("agree"),
		press("program:do-thi"), press("field:so-hoa"),
		say("x"), // too short for a title
		say("Ứng dụng báo hỏng đèn đường"),
		press("cmd:back"), // from the description to the title again
		say("hủy"), press("cancel:yes"),
	)
	last := c.run(h, tg, time.Minute, press("cmd:initiative"))
	if out, err := h.Handle(context.Background(), last); err != nil || !out.Duplicate {
		t.Fatalf("redelivery: %+v, %v", out, err)
	}
	want := `
# HELP sangkien_flow_steps_total What events did at the steps of the flows, by flow, step and outcome (reached, answered, invalid, back, abandoned).
# TYPE sangkien_flow_steps_total counter
sangkien_flow_steps_total{flow="initiative",outcome="abandoned",step="title"} 1
sangkien_flow_steps_total{flow="initiative",outcome="answered",step="consent"} 1
sangkien_flow_steps_total{flow="initiative",outcome="answered",step="field"} 1
sangkien_flow_steps_total{flow="initiative",outcome="answered",step="program"} 1
sangkien_flow_steps_total{flow="initiative",outcome="answered",step="title"} 1
sangkien_flow_steps_total{flow="initiative",outcome="back",step="description"} 1
sangkien_flow_steps_total{flow="initiative",outcome="invalid",step="title"} 1
sangkien_flow_steps_total{flow="initiative",outcome="reached",step="description"} 1
sangkien_flow_steps_total{flow="initiative",outcome="reached",step="field"} 1
sangkien_flow_steps_total{flow="initiative",outcome="reached",step="program"} 2
sangkien_flow_steps_total{flow="initiative",outcome="reached",step="title"} 2
sangkien_flow_steps_total{flow="initiative",outcome="reached",step="consent"} 1
`
	if err := testutil.CollectAndCompare(m.flowSteps, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// A citizen asks for a person and staff answer from the console (the engine wrapped
// with Turns, as serve wires it): the reply is counted by channel, the wait from the
// request to the first answer observed once, and each action by name; the console's
// actions are no channel's events.
func TestTurnsCountStaff(t *testing.T) {
	m := newMetrics(t)
	c := newCity(t)
	citizen, desk := m.Events(c.e), m.Turns(c.e)
	zl := bot.ConversationRef{Channel: bot.Zalo, ID: "z-31"}
	c.run(citizen, zl, time.Minute, bot.Event{Kind: bot.EventCommand, Command: "start"}, press("cmd:human"))
	c.run(desk, zl, 7*time.Minute, staff(bot.EventStaffJoin, ""))
	c.run(desk, zl, 3*time.Minute, staff(bot.EventStaffReply, "Chào bạn, tôi là Lan."))
	c.run(desk, zl, time.Minute, staff(bot.EventStaffReply, "Bạn cần giúp gì?"), staff(bot.EventStaffResolve, ""))
	if got := testutil.ToFloat64(m.staffReplies.WithLabelValues("zalo")); got != 2 {
		t.Errorf("staff replies = %g, want 2", got)
	}
	want := `
# HELP sangkien_staff_first_answer_seconds Time from a citizen's request for a person to staff's first answer, by channel.
# TYPE sangkien_staff_first_answer_seconds histogram
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="30"} 0
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="60"} 0
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="120"} 0
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="300"} 0
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="600"} 1
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="1800"} 1
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="3600"} 1
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="7200"} 1
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="14400"} 1
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="28800"} 1
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="57600"} 1
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="86400"} 1
sangkien_staff_first_answer_seconds_bucket{channel="zalo",le="+Inf"} 1
sangkien_staff_first_answer_seconds_sum{channel="zalo"} 600
sangkien_staff_first_answer_seconds_count{channel="zalo"} 1
# HELP sangkien_staff_actions_total Staff's actions in the console by action (takeover, reply, handback, resolve, note, assign).
# TYPE sangkien_staff_actions_total counter
sangkien_staff_actions_total{action="reply"} 2
sangkien_staff_actions_total{action="resolve"} 1
sangkien_staff_actions_total{action="takeover"} 1
`
	if err := testutil.CollectAndCompare(m.staffFirstAnswer, strings.NewReader(want), "sangkien_staff_first_answer_seconds"); err != nil {
		t.Error(err)
	}
	if err := testutil.CollectAndCompare(m.staffActions, strings.NewReader(want), "sangkien_staff_actions_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.events); n != 2 {
		t.Errorf("%d event series, want the citizen's 2 (command, button): the console's actions are counted as events", n)
	}
}

// A name that is no plain step name (a session written by hand) is one series.
func TestLabelBounded(t *testing.T) {
	for in, want := range map[string]string{"title": "title", "missing_phone": "missing_phone", "": "other",
		"Tiêu đề": "other", strings.Repeat("a", 33): "other", "a b": "other"} {
		if got := label(in); got != want {
			t.Errorf("label(%q) = %q, want %q", in, got, want)
		}
	}
}

// What counting a turn adds to an event: an answer and the next step reached.
func BenchmarkCountTurn(b *testing.B) {
	m := New(slog.New(slog.DiscardHandler))
	ev := bot.Event{Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: "1"}, Kind: bot.EventText}
	out := bot.Outcome{Steps: []bot.StepMove{{Flow: "initiative", Step: "title", Outcome: bot.StepAnswered},
		{Flow: "initiative", Step: "description", Outcome: bot.StepReached}}}
	b.ReportAllocs()
	for b.Loop() {
		m.countTurn(ev, out)
	}
}
