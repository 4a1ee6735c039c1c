package redisstore

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/flows"
	"github.com/sangkien/sangkien/locales"
)

// reportPrograms are two programs open in December 2026.
var reportPrograms = bot.Programs{
	{ID: "do-thi-thong-minh", Name: bot.Text{VI: "Đô thị thông minh", EN: "Smart city"},
		Fields: []bot.Field{{ID: "chuyen-doi-so", Name: bot.Text{VI: "Chuyển đổi số", EN: "Digital services"}},
			{ID: "moi-truong", Name: bot.Text{VI: "Môi trường", EN: "Environment"}}},
		Opens: time.Date(2026, 9, 1, 0, 0, 0, 0, bot.HoChiMinh()), Deadline: time.Date(2027, 1, 1, 0, 0, 0, 0, bot.HoChiMinh())},
	{ID: "giao-thong-xanh", Name: bot.Text{VI: "Giao thông xanh", EN: "Green transport"},
		Fields: []bot.Field{{ID: "cong-cong", Name: bot.Text{VI: "Giao thông công cộng", EN: "Public transport"}},
			{ID: "xe-dap", Name: bot.Text{VI: "Xe đạp và đi bộ", EN: "Cycling and walking"}}},
		Opens: time.Date(2026, 10, 1, 0, 0, 0, 0, bot.HoChiMinh()), Deadline: time.Date(2027, 1, 1, 0, 0, 0, 0, bot.HoChiMinh())},
}

// city is the real engine and flows on a store of the test's own, with a clock that
// moves a minute before each event.
type city struct {
	t   *testing.T
	st  *Store
	e   *bot.Engine
	mu  sync.Mutex
	now time.Time
	n   int
}

func newCity(t *testing.T) *city {
	t.Helper()
	st, _ := newStore(t)
	c := &city{t: t, st: st, now: time.Date(2026, 12, 1, 9, 0, 0, 0, bot.HoChiMinh())}
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	router, err := flows.NewRouter(flows.Config{Programs: reportPrograms, Catalog: cat, Refs: st, Now: c.clock})
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

func (c *city) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// run handles each event a minute after the one before; it returns the events as run
// (with their ids, for a redelivery).
func (c *city) run(conv bot.ConversationRef, evs ...bot.Event) []bot.Event {
	c.t.Helper()
	for i := range evs {
		c.advance(time.Minute)
		c.n++
		ev := &evs[i]
		ev.ID, ev.Conversation, ev.Lang = fmt.Sprintf("ev-%d", c.n), conv, "vi"
		out, err := c.e.Handle(context.Background(), *ev)
		if err != nil || out.Duplicate {
			c.t.Fatalf("event %d (%s %q %q): %v (duplicate %v)", i, ev.Kind, ev.Text, ev.Payload, err, out.Duplicate)
		}
	}
	return evs
}

func say(text string) bot.Event  { return bot.Event{Kind: bot.EventText, Text: text} }
func press(p string) bot.Event   { return bot.Event{Kind: bot.EventButton, Payload: p} }
func command(c string) bot.Event { return bot.Event{Kind: bot.EventCommand, Command: c} }
func staffSays(text string) bot.Event {
	return bot.Event{Kind: bot.EventStaffReply, Text: text, Staff: "Nguyễn Thị Lan", StaffEmail: "lan@hanoi.gov.vn"}
}

// initiativeWalk starts an initiative for program and field and answers every
// question up to the review.
func initiativeWalk(program, field string) []bot.Event {
	return []bot.Event{
		command("start"), press("cmd:initiative"), press("agree"), press("program:" + program), press("field:" + field),
		say("Ứng dụng báo hỏng đèn đường"),
		say("Hiện nay người dân muốn báo đèn đường hỏng thì phải gọi điện cho phường, nhiều khi không ai nghe máy."),
		press("done"),
		say("Đèn được sửa nhanh hơn, đường phố an toàn hơn vào ban đêm."),
		press("skip"), press("skip"),
		say("Nguyễn Thị Lan"), say("0912 345 678"), press("skip"),
	}
}

// A day of the city, through the real engine and flows: a Telegram citizen sends an
// initiative, a Zalo citizen leaves theirs at the title, and the next day the first
// writes again and a third asks for a person and is answered two hours later. The
// report counts each exactly, and a redelivered event adds nothing.
func TestReportCountsWhatHappened(t *testing.T) {
	ctx := context.Background()
	c := newCity(t)
	lan := bot.ConversationRef{Channel: bot.Telegram, ID: "501"}
	nam := bot.ConversationRef{Channel: bot.Zalo, ID: "z-77"}
	hoa := bot.ConversationRef{Channel: bot.Telegram, ID: "502"}

	walk := append(initiativeWalk("do-thi-thong-minh", "chuyen-doi-so"), press("submit"))
	// One event at a time, to see that every step the flow asks is a funnel step
	// (bot.FunnelSteps keeps the flow's names) and that the walk asks them all.
	var ranLan []bot.Event
	asked := map[string]bool{}
	for _, ev := range walk {
		ranLan = append(ranLan, c.run(lan, ev)...)
		s, err := c.st.Session(ctx, lan)
		if err != nil {
			t.Fatal(err)
		}
		if s.State.Flow == bot.KindInitiative {
			if !slices.Contains(bot.FunnelSteps, s.State.Step) {
				t.Errorf("step %q of the flow is not in the funnel %v", s.State.Step, bot.FunnelSteps)
			}
			asked[s.State.Step] = true
		}
	}
	if len(asked) != len(bot.FunnelSteps)-1 {
		t.Errorf("the walk asked %v, the funnel has %v", asked, bot.FunnelSteps)
	}
	if s, err := c.st.Session(ctx, lan); err != nil || len(s.Profile.Submissions) != 1 {
		t.Fatalf("the initiative was not submitted: %+v %v", s, err)
	}
	abandoned := initiativeWalk("giao-thong-xanh", "xe-dap")[:5] // at the title
	c.run(nam, abandoned...)
	if s, err := c.st.Session(ctx, nam); err != nil || s.State.Step != "title" {
		t.Fatalf("the Zalo draft is not at the title: %+v %v", s, err)
	}

	c.advance(24 * time.Hour)
	c.run(lan, say("xin chào"))
	c.run(hoa, say("xin chào"), say("gặp cán bộ"))
	waiting := c.clock()
	c.advance(2 * time.Hour)
	c.run(hoa, staffSays("Chào bạn, mình là Lan, mình có thể giúp gì?"))
	answered := c.clock()

	// Redelivered: the title of the first walk, and the staff answer.
	for _, ev := range []bot.Event{ranLan[5], {ID: fmt.Sprintf("ev-%d", c.n), Conversation: hoa, Kind: bot.EventStaffReply,
		Text: "x", StaffEmail: "lan@hanoi.gov.vn"}} {
		if out, err := c.e.Handle(ctx, ev); err != nil || !out.Duplicate {
			t.Fatalf("redelivery of %s: %+v %v", ev.ID, out, err)
		}
	}

	r, err := c.st.Report(ctx, time.Date(2026, 12, 1, 0, 0, 0, 0, bot.HoChiMinh()), c.clock())
	if err != nil {
		t.Fatal(err)
	}
	nLan, nNam := int64(len(walk)), int64(len(abandoned))
	wantDays := []bot.ReportDay{
		{Day: "2026-12-01", ReportCounts: bot.ReportCounts{New: 2, Active: 2, Messages: nLan + nNam, Submissions: 1}},
		{Day: "2026-12-02", ReportCounts: bot.ReportCounts{New: 1, Active: 2, Messages: 3}},
	}
	if r.From != "2026-12-01" || r.To != "2026-12-02" || !reflect.DeepEqual(r.Days, wantDays) {
		t.Errorf("days %s…%s %+v, want %+v", r.From, r.To, r.Days, wantDays)
	}
	if want := (bot.ReportCounts{New: 3, Active: 4, Messages: nLan + nNam + 3, Submissions: 1}); r.Totals != want {
		t.Errorf("totals %+v, want %+v", r.Totals, want)
	}
	wantCh := map[bot.Channel]bot.ReportCounts{
		bot.Telegram: {New: 2, Active: 3, Messages: nLan + 3, Submissions: 1},
		bot.Zalo:     {New: 1, Active: 1, Messages: nNam},
	}
	if !reflect.DeepEqual(r.ByChannel, wantCh) {
		t.Errorf("channels %+v, want %+v", r.ByChannel, wantCh)
	}
	if want := map[string]int64{bot.KindInitiative: 1}; !reflect.DeepEqual(r.Submissions, want) {
		t.Errorf("submissions %v", r.Submissions)
	}
	if want := map[string]map[string]int64{"do-thi-thong-minh": {bot.KindInitiative: 1}}; !reflect.DeepEqual(r.ByProgram, want) {
		t.Errorf("by program %v", r.ByProgram)
	}
	if want := map[string]map[string]int64{"do-thi-thong-minh": {"chuyen-doi-so": 1}}; !reflect.DeepEqual(r.ByField, want) {
		t.Errorf("by field %v", r.ByField)
	}

	// Both reached the title; only the first went further. The program is known from
	// the step after the one that asks it.
	var wantFunnel []bot.FunnelStep
	for i, step := range bot.FunnelSteps {
		n := int64(1)
		if i <= 3 {
			n = 2
		}
		wantFunnel = append(wantFunnel, bot.FunnelStep{Step: step, Reached: n})
	}
	if !reflect.DeepEqual(r.Funnel, wantFunnel) {
		t.Errorf("funnel %+v, want %+v", r.Funnel, wantFunnel)
	}
	byProg := r.FunnelByProgram
	if byProg[bot.NoProgram]["consent"] != 2 || byProg[bot.NoProgram]["program"] != 2 || byProg[bot.NoProgram]["field"] != 0 ||
		byProg["giao-thong-xanh"]["title"] != 1 || byProg["giao-thong-xanh"]["description"] != 0 ||
		byProg["do-thi-thong-minh"][bot.FunnelSubmitted] != 1 {
		t.Errorf("funnel by program %v", byProg)
	}

	// From the draft's start (pressing "initiative", the walk's second event) to the
	// submission, a minute an event.
	if want := []time.Duration{time.Duration(len(walk)-2) * time.Minute}; !reflect.DeepEqual(r.Took[bot.KindInitiative], want) {
		t.Errorf("took %v, want %v", r.Took, want)
	}
	if m, ok := r.Median(bot.KindInitiative); !ok || m != time.Duration(len(walk)-2)*time.Minute {
		t.Errorf("median %v %v", m, ok)
	}
	if len(r.Answers) != 1 || !r.Answers[0].WaitingSince.Equal(waiting) || !r.Answers[0].Answered.Equal(answered) {
		t.Errorf("answers %+v, want one from %v to %v", r.Answers, waiting, answered)
	}

	// A day outside the events counts nothing; every counter key expires.
	later, err := c.st.Report(ctx, c.clock().AddDate(0, 0, 1), c.clock().AddDate(0, 0, 1))
	if err != nil || later.Totals != (bot.ReportCounts{}) || len(later.Days) != 1 || later.Funnel[0].Reached != 0 {
		t.Errorf("a quiet day: %+v %v", later, err)
	}
	counts, took, _ := c.st.keys(lan).stats("2026-12-01")
	for _, k := range []string{counts, took} {
		if ttl := c.st.c.PTTL(ctx, k).Val(); ttl <= 0 || ttl > DefaultStatsTTL {
			t.Errorf("%s: ttl %v", k, ttl)
		}
	}
	_, _, answers := c.st.keys(hoa).stats("2026-12-02")
	if ttl := c.st.c.PTTL(ctx, answers).Val(); ttl <= 0 || ttl > DefaultStatsTTL {
		t.Errorf("%s: ttl %v", answers, ttl)
	}
}

// Report refuses a period it cannot read.
func TestReportRefusesABadPeriod(t *testing.T) {
	st, _ := newStore(t)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, bot.HoChiMinh())
	for _, p := range [][2]time.Time{{now, now.AddDate(0, 0, -1)}, {now.AddDate(-2, 0, 0), now}} {
		if _, err := st.Report(context.Background(), p[0], p[1]); err == nil {
			t.Errorf("Report(%v, %v) accepted", p[0], p[1])
		}
	}
}

// A day's sample lists keep the newest StatsSamplesMax: a commit over the bound trims
// the oldest, and the list keeps the ttl it was made with.
func TestStatsSamplesBounded(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "samples1"}
	_, took, _ := s.keys(conv).stats("2026-12-03")
	old := make([]any, StatsSamplesMax)
	for i := range old {
		old[i] = fmt.Sprint("initiative ", i)
	}
	if err := c.RPush(ctx, took, old...).Err(); err != nil {
		t.Fatal(err)
	}
	c.PExpire(ctx, took, time.Hour)
	commit(t, s, conv, "s1", bot.Change{Session: sampleSession(conv), Tally: bot.Tally{Day: "2026-12-03", Channel: bot.Telegram,
		Submitted: &bot.SubmittedTally{Kind: bot.KindInitiative, Program: "p", Took: 90 * time.Second}}})
	got, err := c.LRange(ctx, took, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != StatsSamplesMax || got[0] != "initiative 1" || got[len(got)-1] != "initiative 90" {
		t.Errorf("%d samples from %q to %q, want %d from \"initiative 1\" to the new \"initiative 90\"", len(got), got[0], got[len(got)-1], StatsSamplesMax)
	}
	if ttl := c.PTTL(ctx, took).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("ttl %v, want the list's own (at most an hour)", ttl)
	}
}
