package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/console"
	"github.com/sangkien/sangkien/console/workday"
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

// newReportDesk is newDesk with programs: its engine's flows take initiatives, and
// its console names programs and fields (the reports read the store's counters).
func newReportDesk(t *testing.T) *desk {
	t.Helper()
	d := newDesk(t, false)
	clock := func() time.Time {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.now
	}
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	router, err := flows.NewRouter(flows.Config{Programs: reportPrograms, Catalog: cat, Refs: d.st, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if d.engine, err = bot.NewEngine(bot.EngineConfig{Store: d.st, Conversation: router, Now: clock}); err != nil {
		t.Fatal(err)
	}
	srv, err := console.New(console.Config{
		Engine: d.engine, Accounts: console.Accounts{Store: d.staff, Cost: bcrypt.MinCost}, Sessions: d.staff,
		Conversations: d.st, Submissions: d.st, Audit: d.st.Audit(redisstore.AuditOptions{Now: clock}),
		Canned: d.st.Canned(), Changes: d.st, Programs: reportPrograms, Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	d.srv.Close()
	d.console, d.srv = srv, httptest.NewServer(srv)
	t.Cleanup(d.srv.Close)
	return d
}

// walk runs the citizen's events a minute apart.
func (d *desk) walk(conv bot.ConversationRef, evs ...bot.Event) {
	d.t.Helper()
	for i, ev := range evs {
		d.advance(time.Minute)
		ev.ID, ev.Conversation, ev.Lang = fmt.Sprintf("%s-w%d", conv.ID, i), conv, "vi"
		if _, err := d.engine.Handle(context.Background(), ev); err != nil {
			d.t.Fatalf("event %d: %v", i, err)
		}
	}
}

// initiativeTo answers an initiative's questions for program and field up to the
// review.
func initiativeTo(program, field string) []bot.Event {
	say := func(s string) bot.Event { return bot.Event{Kind: bot.EventText, Text: s} }
	press := func(p string) bot.Event { return bot.Event{Kind: bot.EventButton, Payload: p} }
	return []bot.Event{
		{Kind: bot.EventCommand, Command: "start"}, press("cmd:initiative"), press("agree"),
		press("program:" + program), press("field:" + field),
		say("Ứng dụng báo hỏng đèn đường"),
		say("Hiện nay người dân muốn báo đèn đường hỏng thì phải gọi điện cho phường, nhiều khi không ai nghe máy."),
		press("done"), say("Đèn được sửa nhanh hơn, đường phố an toàn hơn vào ban đêm."),
		press("skip"), press("skip"), say("Nguyễn Thị Lan"), say("0912 345 678"), press("skip"),
	}
}

type reportAnswer struct {
	From, To string
	Days     int
	Totals   bot.ReportCounts
	PerDay   []struct {
		Day string
		bot.ReportCounts
	} `json:"per_day"`
	Channels []struct {
		Channel string
		bot.ReportCounts
	}
	Programs []struct {
		ID, Name              string
		Initiatives, Feedback int64
	}
	Fields []struct {
		Program, ID, Name string
		ProgramName       string `json:"program_name"`
		Initiatives       int64
	}
	Funnel []struct {
		Step          string
		Reached, Left int64
		ReachedPct    float64 `json:"reached_pct"`
		LeftPct       float64 `json:"left_pct"`
	}
	TimeToSubmit map[string]struct {
		MedianSeconds int64 `json:"median_seconds"`
		Samples       int
	} `json:"time_to_submit"`
	FirstAnswers struct {
		Count         int
		WithinTarget  int     `json:"within_target"`
		Share         float64 `json:"share"`
		TargetSeconds int64   `json:"target_seconds"`
	} `json:"first_answers"`
}

// A Telegram citizen sends an initiative, a Zalo citizen stops at the title, a third
// asks for a person and Lan answers two hours later: the API and the page (in both
// languages) report it, for operators only once logged in.
func TestReports(t *testing.T) {
	d := newReportDesk(t)
	walk := append(initiativeTo("do-thi-thong-minh", "chuyen-doi-so"), bot.Event{Kind: bot.EventButton, Payload: "submit"})
	d.walk(bot.ConversationRef{Channel: bot.Telegram, ID: "701"}, walk...)
	d.walk(bot.ConversationRef{Channel: bot.Zalo, ID: "z-702"}, initiativeTo("giao-thong-xanh", "xe-dap")[:5]...)
	asks := d.citizenAsks()
	d.advance(2 * time.Hour)
	var row row
	if d.api(lan, "POST", convPath(asks, "takeover"), nil, &row) != 200 ||
		d.api(lan, "POST", convPath(asks, "reply"), map[string]string{"text": "Chào bạn, mình là Lan."}, &row) != 200 {
		t.Fatalf("answer: %+v", row)
	}

	var r reportAnswer
	if code := d.api(lan, "GET", "/console/api/reports?days=7", nil, &r); code != 200 {
		t.Fatalf("reports: %d", code)
	}
	nWalk := int64(len(walk))
	if r.Days != 7 || r.From != "2026-11-25" || r.To != "2026-12-01" || len(r.PerDay) != 7 {
		t.Errorf("period %d %s…%s, %d days", r.Days, r.From, r.To, len(r.PerDay))
	}
	want := bot.ReportCounts{New: 3, Active: 3, Messages: nWalk + 5 + 2, Submissions: 1}
	if r.Totals != want || r.PerDay[6].Day != "2026-12-01" || r.PerDay[6].ReportCounts != want {
		t.Errorf("totals %+v, today %+v, want %+v", r.Totals, r.PerDay[6], want)
	}
	if len(r.Channels) != 2 || r.Channels[0].Channel != "telegram" || r.Channels[0].New != 2 || r.Channels[1].Messages != 5 {
		t.Errorf("channels %+v", r.Channels)
	}
	if len(r.Programs) != 1 || r.Programs[0].Name != "Đô thị thông minh" || r.Programs[0].Initiatives != 1 {
		t.Errorf("programs %+v", r.Programs)
	}
	if len(r.Fields) != 1 || r.Fields[0].Name != "Chuyển đổi số" || r.Fields[0].ProgramName != "Đô thị thông minh" {
		t.Errorf("fields %+v", r.Fields)
	}
	if len(r.Funnel) != len(bot.FunnelSteps) {
		t.Fatalf("funnel %+v", r.Funnel)
	}
	title, last := r.Funnel[3], r.Funnel[len(r.Funnel)-1]
	if r.Funnel[0].Reached != 2 || r.Funnel[0].ReachedPct != 100 || title.Step != "title" || title.Reached != 2 ||
		title.Left != 1 || title.LeftPct != 50 || last.Step != bot.FunnelSubmitted || last.Reached != 1 || last.ReachedPct != 50 {
		t.Errorf("funnel %+v", r.Funnel)
	}
	took := int64(len(walk)-2) * 60 // from pressing "initiative" to "submit", a minute apart
	if m := r.TimeToSubmit[bot.KindInitiative]; m.MedianSeconds != took || m.Samples != 1 {
		t.Errorf("time to submit %+v, want %ds", r.TimeToSubmit, took)
	}
	if a := r.FirstAnswers; a.Count != 1 || a.WithinTarget != 1 || a.Share != 100 || a.TargetSeconds != int64(workday.DefaultTargets.FirstAnswer/time.Second) {
		t.Errorf("first answers %+v", a)
	}

	for _, c := range []struct {
		who, path string
		want      int
	}{
		{"", "/console/api/reports", http.StatusUnauthorized},
		{lan, "/console/api/reports?days=8", http.StatusBadRequest},
		{an, "/console/api/reports?days=90", http.StatusOK},
	} {
		if got := d.api(c.who, "GET", c.path, nil, nil); got != c.want {
			t.Errorf("GET %s as %q: %d, want %d", c.path, c.who, got, c.want)
		}
	}

	b := d.browser()
	if res, _ := d.get(b, "/console/reports"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/login" {
		t.Errorf("the page without a session: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	d.login(b, lan, lanPassword)
	minutes := fmt.Sprint(took / 60)
	for _, c := range []struct {
		path string
		want []string
	}{
		{"/console/reports", []string{`<html lang="vi">`, "Báo cáo hoạt động", `aria-current="true">30 ngày qua`,
			`href="/console/reports" aria-current="page">Báo cáo`, "Đô thị thông minh", "Chuyển đổi số", "Dừng tại đây",
			"Xem lại trước khi gửi", minutes + " phút", "1/1 lượt trả lời trong vòng 1 ngày làm việc", "100%", "Thứ Ba 01/12"}},
		{"/console/reports?days=7&lang=en", []string{`<html lang="en">`, "Activity report", `aria-current="true">Last 7 days`,
			"Smart city", "Digital services", "Stopped here", "Review before sending", minutes + " min",
			"1/1 answers within 1 working day", "Tue 01/12", "25/11/2026 – 01/12/2026"}},
	} {
		res, body := d.get(b, c.path)
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", c.path, res.StatusCode)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", c.path, w)
			}
		}
	}
	if res, _ := d.get(b, "/console/reports?days=12"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a period not offered: %d", res.StatusCode)
	}
}
