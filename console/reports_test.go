package console_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/console"
	"github.com/sangkien/sangkien/console/consoletest"
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
			"1/1 answers within 1 working day", "Tuesday 01/12", "25/11/2026 – 01/12/2026"}},
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

// seedMonth runs a month of citizens through the real engine and flows, as a city
// would see them: more on weekdays, most on Zalo; initiatives that stop at every step
// or are sent, feedback, and citizens who ask for a person and are answered within
// minutes or the next day. The random source is seeded: every run is the same month.
func (d *desk) seedMonth(days int) {
	d.t.Helper()
	rng := rand.New(rand.NewPCG(2026, 12))
	d.mu.Lock()
	d.now = time.Date(2026, 12, 1, 0, 0, 0, 0, bot.HoChiMinh()).AddDate(0, 0, 1-days)
	d.mu.Unlock()
	type answer struct {
		conv bot.ConversationRef
		at   time.Time
	}
	var due []answer
	answerDue := func(until time.Time) {
		for len(due) > 0 && !due[0].at.After(until) {
			a := due[0]
			due = due[1:]
			d.mu.Lock()
			d.now = later(d.now, a.at)
			d.mu.Unlock()
			ev := bot.Event{ID: "answer-" + a.at.String(), Conversation: a.conv, Kind: bot.EventStaffReply,
				Text: "Chào bạn, mình là Lan ở bộ phận tiếp nhận. Mình có thể giúp gì ạ?", Staff: "Nguyễn Thị Lan", StaffEmail: lan}
			if _, err := d.engine.Handle(context.Background(), ev); err != nil {
				d.t.Fatal(err)
			}
		}
	}
	channels := []bot.Channel{bot.Zalo, bot.Zalo, bot.Zalo, bot.Telegram, bot.Telegram, bot.Web}
	programs := []string{"do-thi-thong-minh", "do-thi-thong-minh", "giao-thong-xanh"}
	id := 0
	var seen []bot.ConversationRef
	for day := range days {
		start := time.Date(2026, 12, 1, 7, 0, 0, 0, bot.HoChiMinh()).AddDate(0, 0, 1-days+day)
		n := 8 + rng.IntN(9)
		if wd := start.Weekday(); wd == time.Saturday || wd == time.Sunday {
			n = 3 + rng.IntN(4)
		}
		n += day / 6 // word spreads
		var starts []time.Duration
		for range n {
			starts = append(starts, time.Duration(rng.Int64N(int64(15*time.Hour))))
		}
		slices.Sort(starts)
		for _, off := range starts {
			at := start.Add(off)
			answerDue(at)
			d.mu.Lock()
			d.now = later(d.now, at)
			d.mu.Unlock()
			id++
			conv := bot.ConversationRef{Channel: channels[rng.IntN(len(channels))], ID: fmt.Sprintf("c%04d", id)}
			var evs []bot.Event
			switch roll := rng.IntN(100); {
			case roll < 15 && len(seen) > 0:
				// Back to see how their submission is doing.
				conv = seen[rng.IntN(len(seen))]
				evs = []bot.Event{{Kind: bot.EventText, Text: "xin chào"}, {Kind: bot.EventButton, Payload: "cmd:status"}}
			case roll < 60:
				prog := programs[rng.IntN(len(programs))]
				p, _ := reportPrograms.Get(prog)
				walk := append(initiativeTo(prog, p.Fields[rng.IntN(len(p.Fields))].ID), bot.Event{Kind: bot.EventButton, Payload: "submit"})
				if stop := rng.IntN(100); stop >= 52 {
					walk = walk[:2+rng.IntN(len(walk)-2)] // left somewhere on the way
				}
				evs = walk
			case roll < 75:
				topic := "topic:service"
				if rng.IntN(2) == 0 {
					topic = "topic:program:" + programs[rng.IntN(len(programs))]
				}
				evs = []bot.Event{{Kind: bot.EventCommand, Command: "start"}, {Kind: bot.EventButton, Payload: "cmd:feedback"},
					{Kind: bot.EventButton, Payload: topic}, {Kind: bot.EventButton, Payload: fmt.Sprintf("rating:%d", 3+rng.IntN(3))},
					{Kind: bot.EventText, Text: "Nên có thêm hướng dẫn bằng video cho người cao tuổi."}, {Kind: bot.EventButton, Payload: "skip"}}
			case roll < 92:
				evs = []bot.Event{{Kind: bot.EventText, Text: "xin chào"}, {Kind: bot.EventButton, Payload: "cmd:human"}}
				wait := 5*time.Minute + time.Duration(rng.Int64N(int64(4*time.Hour)))
				switch rng.IntN(6) {
				case 0:
					wait += 20 * time.Hour // the next day
				case 1:
					wait += 50 * time.Hour // two days later: late
				}
				due = append(due, answer{conv: conv, at: at.Add(wait)})
				slices.SortFunc(due, func(a, b answer) int { return a.at.Compare(b.at) })
			default:
				evs = []bot.Event{{Kind: bot.EventText, Text: "xin chào"}}
			}
			seen = append(seen, conv)
			for i, ev := range evs {
				d.advance(20*time.Second + time.Duration(rng.Int64N(int64(150*time.Second))))
				ev.ID, ev.Conversation, ev.Lang = fmt.Sprintf("%s-%d-%d", conv.ID, id, i), conv, "vi"
				if _, err := d.engine.Handle(context.Background(), ev); err != nil {
					d.t.Fatalf("%s event %d: %v", conv.ID, i, err)
				}
			}
		}
	}
	d.mu.Lock()
	end := d.now
	d.mu.Unlock()
	answerDue(end) // later answers are still to come: those citizens wait
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// The reports page of a realistic month in Chromium: its bars are drawn (the CSS
// classes apply under the console's Content-Security-Policy) and its tiles say what
// the JSON says; it takes the page's screenshots in both languages (make screens
// writes them for the README).
func TestReportsPageInABrowser(t *testing.T) {
	d := newReportDesk(t)
	d.seedMonth(30)
	var r reportAnswer
	if code := d.api(lan, "GET", "/console/api/reports", nil, &r); code != 200 {
		t.Fatalf("reports: %d", code)
	}
	if r.Submissions() == 0 || r.FirstAnswers.Count == 0 || r.Funnel[0].Reached == 0 {
		t.Fatalf("the month made no report: %+v", r)
	}
	b := consoletest.Browser(t)
	if err := chromedp.Do(b,
		chromedp.Navigate(d.srv.URL+"/console/login"),
		chromedp.SendKeys(chromedp.ID("email"), lan),
		chromedp.SendKeys(chromedp.ID("password"), lanPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("counts")),
		chromedp.Navigate(d.srv.URL+"/console/reports"),
		chromedp.WaitVisible(chromedp.CSS(`table.funnel`)),
	); err != nil {
		t.Fatal(err)
	}
	widths, err := chromedp.Run(b, chromedp.Evaluate[[]float64](`(() => {
		const bars = [...document.querySelectorAll("table.funnel .meter")];
		const w = (el) => el.getBoundingClientRect().width;
		return [w(bars[0]), w(bars[0].firstElementChild), w(bars[bars.length-1].firstElementChild)];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(widths) != 3 || widths[0] < 50 || math.Abs(widths[1]-widths[0]) > 1 || widths[2] <= 0 || widths[2] >= widths[1] {
		t.Errorf("funnel bars: meter, first and last fill %v px", widths)
	}
	tile, err := chromedp.Run(b, consoletest.Text(`.tiles .tile .num`))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprint(r.Totals.Active); tile != want {
		t.Errorf("the first tile says %q, the JSON %s conversations", tile, want)
	}
	dir := *screens
	if dir == "" {
		dir = t.TempDir()
	}
	for _, lang := range []string{"vi", "en"} {
		path := filepath.Join(dir, "reports."+lang+".png")
		if err := chromedp.Do(b, chromedp.Navigate(d.srv.URL+"/console/reports?lang="+lang),
			chromedp.WaitVisible(chromedp.CSS(`table.funnel`)), consoletest.Screenshot(path)); err != nil {
			t.Fatal(err)
		}
		checkScreenshot(t, path)
	}
}

// Submissions counts every submission of the report.
func (r reportAnswer) Submissions() int64 { return r.Totals.Submissions }
