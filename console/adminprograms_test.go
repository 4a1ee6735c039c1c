package console_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien"
	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/console"
	"github.com/sangkien/sangkien/console/consoletest"
	"github.com/sangkien/sangkien/programs"
)

// newProgramsDesk is a desk whose console edits the programs over the built-in
// programs file, as serve's does; it returns the catalog the rest of the gateway
// (flows, reminders) reads.
func newProgramsDesk(t *testing.T) (*desk, *programs.Live) {
	t.Helper()
	d := newDesk(t, false)
	clock := func() time.Time {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.now
	}
	file, err := programs.Load(bytes.NewReader(sangkien.DefaultPrograms))
	if err != nil {
		t.Fatal(err)
	}
	live := programs.NewLive(file, d.st.ProgramEdits(), slog.New(slog.DiscardHandler), clock)
	srv, err := console.New(console.Config{
		Engine: d.engine, Accounts: console.Accounts{Store: d.staff, Cost: bcrypt.MinCost}, Sessions: d.staff,
		Conversations: d.st, Submissions: d.st, Audit: d.st.Audit(redisstore.AuditOptions{Now: clock}),
		Canned: d.st.Canned(), Changes: d.st, Programs: live, ProgramEdits: live, Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	d.console, d.srv = srv, httptest.NewServer(srv)
	t.Cleanup(d.srv.Close)
	return d, live
}

const (
	xanhID   = "thu-do-xanh-2027"
	xanhPath = "/console/programs/" + xanhID
)

// programForm is the edit form of thu-do-xanh-2027 as the page fills it, changed by
// the given fields.
func programForm(change url.Values) url.Values {
	v := url.Values{
		"name_vi": {"Sáng kiến vì Thủ đô xanh 2026–2027"}, "name_en": {"Initiatives for a Green Capital 2026–2027"},
		"desc_vi": {"Mô tả"}, "desc_en": {"Description"},
		"opens": {"2026-09-01T00:00"}, "deadline": {"2027-12-31T23:59"}, "at_opening": {"1"}, "before": {"7d, 1d"},
	}
	for k, vs := range change {
		v[k] = vs
	}
	return v
}

// Who may see and edit the programs: admins only, every form with its CSRF token.
func TestProgramPagesByRole(t *testing.T) {
	d, _ := newProgramsDesk(t)
	op := d.browser()
	opCSRF := d.login(op, lan, lanPassword)
	if _, inbox := d.get(op, "/console/"); strings.Contains(inbox, `href="/console/programs"`) {
		t.Error("an operator's nav links to the programs")
	}
	for _, p := range []string{"/console/programs", xanhPath} {
		if res, body := d.get(op, p); res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Chỉ quản trị viên") {
			t.Errorf("an operator on %s: %d", p, res.StatusCode)
		}
	}
	for _, p := range []string{xanhPath, xanhPath + "/reset"} {
		if res, _ := d.form(op, p, with(programForm(nil), opCSRF)); res.StatusCode != http.StatusForbidden {
			t.Errorf("an operator's form to %s: %d", p, res.StatusCode)
		}
	}
	ad := d.browser()
	csrf := d.login(ad, an, anPassword)
	if _, inbox := d.get(ad, "/console/"); !strings.Contains(inbox, `href="/console/programs"`) {
		t.Error("an admin's nav lacks the programs")
	}
	for _, p := range []string{xanhPath, xanhPath + "/reset"} {
		if res, _ := d.form(ad, p, programForm(nil)); res.StatusCode != http.StatusForbidden {
			t.Errorf("a form to %s without CSRF: %d", p, res.StatusCode)
		}
	}
	if res, _ := d.get(ad, "/console/programs/nope"); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown program: %d", res.StatusCode)
	}
	if res, _ := d.form(ad, "/console/programs/nope", with(programForm(nil), csrf)); res.StatusCode != http.StatusNotFound {
		t.Errorf("an edit of an unknown program: %d", res.StatusCode)
	}
	if lines := d.auditLines(bot.AuditQuery{Action: console.AuditProgramEdit}); len(lines) != 0 {
		t.Errorf("refused edits in the audit: %v", lines)
	}
}

// The list, an edit of the deadline and the reminders, refused forms, and the reset:
// the rest of the gateway reads each change at once, the audit trail records it.
func TestProgramEdit(t *testing.T) {
	d, live := newProgramsDesk(t) // 1/12/2026 09:00
	c := d.browser()
	csrf := d.login(c, an, anPassword)
	res, list := d.get(c, "/console/programs")
	for _, want := range []string{
		"Chương trình nhận sáng kiến",
		`<a href="/console/programs/thu-do-xanh-2027">Sáng kiến vì Thủ đô xanh 2026–2027</a>`,
		`<time datetime="2027-12-31T23:59:00&#43;07:00">31/12/2027 23:59</time>`,
		`<span class="phase open">Đang mở nhận</span>`, `<span class="phase closed">Đã hết hạn</span>`,
		"khi mở nhận; trước hạn chót 7d, 1d (mặc định)", "khi mở nhận; trước hạn chót 30d, 7d, 1d<",
		"Tệp chương trình",
	} {
		if res.StatusCode != 200 || !strings.Contains(list, want) {
			t.Errorf("the list (%d) lacks %q", res.StatusCode, want)
		}
	}
	res, form := d.get(c, xanhPath)
	for _, want := range []string{`name="deadline" type="datetime-local" required value="2027-12-31T23:59"`,
		`name="before" value="7d, 1d"`, `name="at_opening" type="checkbox" value="1" checked`, `value="Sáng kiến vì Thủ đô xanh 2026–2027"`,
		"Theo tệp chương trình: 31/12/2027 23:59"} {
		if res.StatusCode != 200 || !strings.Contains(form, want) {
			t.Errorf("the form (%d) lacks %q", res.StatusCode, want)
		}
	}
	if strings.Contains(form, xanhPath+"/reset") {
		t.Error("the form offers a reset of a program never edited")
	}

	for _, bad := range []struct {
		change url.Values
		want   string
	}{
		{url.Values{"name_en": {" "}}, "cần có tên bằng cả tiếng Việt và tiếng Anh"},
		{url.Values{"name_vi": {strings.Repeat("a", 201)}}, "tên dài tối đa 200 ký tự"},
		{url.Values{"deadline": {"31/12/2027"}}, "thời gian mở nhận hoặc hạn chót không hợp lệ"},
		{url.Values{"deadline": {"2026-08-31T23:59"}}, "hạn chót phải sau thời gian mở nhận"},
		{url.Values{"before": {"7d, 2 weeks"}}, "mốc nhắc không hợp lệ"},
		{url.Values{"before": {"1d, 24h"}}, "mốc nhắc không hợp lệ"},
		{url.Values{"before": {"0m"}}, "mốc nhắc không hợp lệ"},
	} {
		res, body := d.form(c, xanhPath, with(programForm(bad.change), csrf))
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Chưa lưu được: ") || !strings.Contains(body, bad.want) {
			t.Errorf("%v: %d, want 400 saying %q", bad.change, res.StatusCode, bad.want)
		}
		for k, vs := range bad.change {
			if k != "name_vi" && !strings.Contains(body, `value="`+vs[0]+`"`) {
				t.Errorf("%v: the form lost what was typed", bad.change)
			}
		}
	}
	if p, _ := live.Programs().Get(xanhID); !p.Deadline.Equal(time.Date(2027, 12, 31, 23, 59, 0, 0, bot.HoChiMinh())) || p.Reminders != nil {
		t.Fatalf("refused forms changed the program: %+v", p)
	}

	res, _ = d.form(c, xanhPath, with(programForm(url.Values{"deadline": {"2028-01-15T17:00"}, "at_opening": nil, "before": {"3d 12h"}}), csrf))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/programs?flash=program_saved" {
		t.Fatalf("save: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	p, _ := live.Programs().Get(xanhID)
	if want := time.Date(2028, 1, 15, 17, 0, 0, 0, bot.HoChiMinh()); !p.Deadline.Equal(want) || p.Description.VI != "Mô tả" ||
		len(p.Reminders) != 2 || p.Reminders[0] != (bot.Reminder{Before: 72 * time.Hour}) || p.Reminders[1] != (bot.Reminder{Before: 12 * time.Hour}) {
		t.Errorf("the gateway reads %+v after the save", p)
	}
	_, list = d.get(c, "/console/programs?flash=program_saved")
	for _, want := range []string{"Đã lưu chương trình.", `<time datetime="2028-01-15T17:00:00&#43;07:00">15/01/2028 17:00</time>`,
		"trước hạn chót 3d, 12h<", "Đã chỉnh sửa"} {
		if !strings.Contains(list, want) {
			t.Errorf("the list after the save lacks %q", want)
		}
	}
	// Opening in the future: upcoming.
	if res, _ := d.form(c, "/console/programs/chuyen-doi-so-phuong-xa", with(url.Values{"name_vi": {"Chuyển đổi số phường, xã"},
		"name_en": {"Digital transformation of wards and communes"}, "opens": {"2027-01-01T08:00"}, "deadline": {"2028-03-31T17:00"}, "before": {""}}, csrf)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save a program opening next year: %d", res.StatusCode)
	}
	if _, list = d.get(c, "/console/programs?lang=en"); !strings.Contains(list, `<span class="phase upcoming">Upcoming</span>`) ||
		!strings.Contains(list, "<td>no reminders</td>") || !strings.Contains(list, "3d, 12h before the deadline") {
		t.Errorf("the English list after the saves: %s", list)
	}
	if got := len(live.Programs().OpenAt(d.now)); got != 1 {
		t.Errorf("%d programs open, want 1 (the other opens next year)", got)
	}

	_, form = d.get(c, xanhPath+"?lang=vi")
	if !strings.Contains(form, `action="`+xanhPath+`/reset"`) {
		t.Fatal("the form of an edited program offers no reset")
	}
	if res, _ := d.form(c, xanhPath+"/reset", with(nil, csrf)); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/programs?flash=program_reset" {
		t.Errorf("reset: %d", res.StatusCode)
	}
	if p, _ := live.Programs().Get(xanhID); !p.Deadline.Equal(time.Date(2027, 12, 31, 23, 59, 0, 0, bot.HoChiMinh())) || p.Reminders != nil {
		t.Errorf("after the reset the gateway reads %+v", p)
	}
	if res, _ := d.form(c, xanhPath+"/reset", with(nil, csrf)); res.StatusCode != http.StatusNotFound {
		t.Errorf("reset again: %d", res.StatusCode)
	}
	wantLines(t, "audit", d.auditLines(bot.AuditQuery{Staff: an, Limit: 3}), []string{
		an + " program_reset " + xanhID,
		an + " program_edit chuyen-doi-so-phuong-xa: description; opens 01/01/2027 08:00; reminders none",
		an + " program_edit " + xanhID + ": description; deadline 15/01/2028 17:00; reminders 3d, 12h",
	})
	if _, audit := d.get(c, "/console/audit"); !strings.Contains(audit, "Sửa chương trình") {
		t.Error("the audit page does not name the program edits")
	}
}

// In a browser: an admin moves a deadline and sees it listed.
func TestProgramEditInABrowser(t *testing.T) {
	d, live := newProgramsDesk(t)
	b := consoletest.Browser(t)
	if err := chromedp.Do(b,
		chromedp.Navigate(d.srv.URL+"/console/login"),
		chromedp.SendKeys(chromedp.ID("email"), an),
		chromedp.SendKeys(chromedp.ID("password"), anPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("counts")),
		// The inbox is the page that fetches itself again on every change: a click on
		// its navigation can meet a node just replaced ("Could not find node"), so the
		// programs page is opened by its address; the link is checked to be there.
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/console/programs"]`)),
		chromedp.Navigate(d.srv.URL+"/console/programs"),
		chromedp.Click(chromedp.CSS(`#program-`+xanhID+` a`)),
		chromedp.WaitVisible(chromedp.ID("pg-deadline")),
		chromedp.SetValue(chromedp.ID("pg-deadline"), "2028-02-29T17:30"),
		chromedp.Clear(chromedp.ID("pg-before")),
		chromedp.SendKeys(chromedp.ID("pg-before"), "14d, 1d"),
		chromedp.Click(chromedp.ID("pg-save")),
		chromedp.WaitVisible(chromedp.CSS(`#program-`+xanhID+` .deadline`)),
	); err != nil {
		t.Fatal(err)
	}
	deadline, err := chromedp.Run(b, consoletest.Text(`#program-`+xanhID+` .deadline`))
	if err != nil {
		t.Fatal(err)
	}
	flash, err := chromedp.Run(b, consoletest.Text(`.flash`))
	if err != nil {
		t.Fatal(err)
	}
	if deadline != "29/02/2028 17:30" || flash != "Đã lưu chương trình." {
		t.Errorf("after the save the list shows %q, notice %q", deadline, flash)
	}
	path := filepath.Join(t.TempDir(), "programs.vi.png")
	if *screens != "" {
		path = filepath.Join(*screens, "programs.vi.png")
	}
	if err := chromedp.Do(b, consoletest.Screenshot(path)); err != nil {
		t.Fatal(err)
	}
	checkScreenshot(t, path)
	if p, _ := live.Programs().Get(xanhID); !p.Deadline.Equal(time.Date(2028, 2, 29, 17, 30, 0, 0, bot.HoChiMinh())) ||
		len(p.Reminders) != 3 || p.Reminders[1] != (bot.Reminder{Before: 14 * 24 * time.Hour}) {
		t.Errorf("the gateway reads %+v", p)
	}
}
