package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/console"
)

// newAdminDesk is a desk whose console keeps its holidays edits in Redis, as serve's
// does.
func newAdminDesk(t *testing.T) *desk {
	t.Helper()
	d := newDesk(t, false)
	d.console, d.srv = d.serve()
	return d
}

// serve starts one more console process on the desk's Redis, with the holidays edits.
func (d *desk) serve() (*console.Server, *httptest.Server) {
	d.t.Helper()
	clock := func() time.Time {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.now
	}
	srv, err := console.New(console.Config{
		Engine: d.engine, Accounts: console.Accounts{Store: d.staff, Cost: bcrypt.MinCost}, Sessions: d.staff,
		Conversations: d.st, Submissions: d.st, Audit: d.st.Audit(redisstore.AuditOptions{Now: clock}),
		Canned: d.st.Canned(), Changes: d.st, Holidays: d.st.Holidays(), Now: clock,
	})
	if err != nil {
		d.t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	d.t.Cleanup(hs.Close)
	return srv, hs
}

// auditLines are the newest entries of the trail, as "staff action detail".
func (d *desk) auditLines(q bot.AuditQuery) []string {
	d.t.Helper()
	entries, _, err := d.st.Audit(redisstore.AuditOptions{}).List(context.Background(), q)
	if err != nil {
		d.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Staff+" "+e.Action+" "+e.Detail)
	}
	return out
}

func wantLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Operators get the canned answers page and nothing else of the admin pages, in the
// nav or by URL; admins get them all.
func TestAdminPagesByRole(t *testing.T) {
	d := newAdminDesk(t)
	op := d.browser()
	d.login(op, lan, lanPassword)
	_, inbox := d.get(op, "/console/")
	if !strings.Contains(inbox, `href="/console/canned"`) || strings.Contains(inbox, `href="/console/staff"`) {
		t.Error("an operator's nav: want canned answers only")
	}
	for _, p := range []string{"/console/staff", "/console/audit", "/console/holidays"} {
		if res, body := d.get(op, p); res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Chỉ quản trị viên") {
			t.Errorf("an operator on %s: %d", p, res.StatusCode)
		}
	}
	if res, body := d.get(op, "/console/canned"); res.StatusCode != 200 || !strings.Contains(body, "Chưa có mẫu trả lời nào.") {
		t.Errorf("an operator on the canned answers: %d", res.StatusCode)
	}
	for _, p := range []string{"/console/api/staff", "/console/api/holidays"} {
		if got := d.api(lan, "GET", p, nil, nil); got != http.StatusForbidden {
			t.Errorf("an operator on %s: %d", p, got)
		}
	}
	for _, p := range []string{"/console/api/staff", "/console/api/staff/" + minh + "/disable", "/console/api/staff/" + minh + "/password", "/console/api/staff/" + minh + "/token"} {
		if got := d.api(lan, "POST", p, map[string]string{}, nil); got != http.StatusForbidden {
			t.Errorf("an operator posts %s: %d", p, got)
		}
	}
	opCSRF := csrfAttr.FindStringSubmatch(inbox)[1]
	for _, p := range []string{"/console/staff", "/console/staff/" + minh + "/disable", "/console/staff/" + minh + "/password",
		"/console/staff/" + minh + "/token", "/console/canned/x/delete", "/console/holidays/2027-02-08/remove", "/console/holidays/2027-02-08/restore"} {
		if res, body := d.form(op, p, url.Values{"csrf": {opCSRF}}); res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Chỉ quản trị viên") {
			t.Errorf("an operator's form to %s: %d", p, res.StatusCode)
		}
	}
	if lines := d.auditLines(bot.AuditQuery{}); len(lines) != 1 || lines[0] != lan+" login " {
		t.Errorf("refused changes in the audit: %v", lines)
	}

	ad := d.browser()
	d.login(ad, an, anPassword)
	// In order: ?lang= is remembered for the pages after it.
	for _, p := range []struct{ path, want string }{
		{"/console/staff", "Tài khoản cán bộ"},
		{"/console/canned", "Thêm mẫu trả lời"},
		{"/console/audit", "Nhật ký thao tác"},
		{"/console/holidays", "Tết Nguyên Đán (mùng 1)"},
		{"/console/staff?lang=en", "Staff accounts"},
		{"/console/canned", "New canned answer"},
		{"/console/audit", "Audit trail"},
		{"/console/holidays", "Holidays and make-up working days"},
	} {
		if res, body := d.get(ad, p.path); res.StatusCode != 200 || !strings.Contains(body, p.want) {
			t.Errorf("an admin on %s: %d, want %q", p.path, res.StatusCode, p.want)
		}
	}
	_, inbox = d.get(ad, "/console/?lang=vi")
	for _, link := range []string{"/console/staff", "/console/canned", "/console/audit", "/console/holidays"} {
		if !strings.Contains(inbox, `href="`+link+`"`) {
			t.Errorf("an admin's nav lacks %s", link)
		}
	}
}

// The staff API: list, add, disable, password, token; each change audited, never
// with the password or the token; an admin cannot disable their own account.
func TestStaffAPI(t *testing.T) {
	d := newAdminDesk(t)
	var list []map[string]any
	if d.api(an, "GET", "/console/api/staff", nil, &list) != 200 || len(list) != 3 {
		t.Fatalf("list: %v", list)
	}
	for _, m := range list {
		if _, ok := m["password"]; ok {
			t.Errorf("the list shows a password field: %v", m)
		}
	}
	const hoa, hoaPassword = "hoa@hanoi.gov.vn", "mật khẩu của Hoa 2026"
	add := map[string]string{"email": " Hoa@HaNoi.gov.vn", "name": "Phạm Thị Hoa", "role": "operator", "password": hoaPassword}
	var added map[string]any
	if got := d.api(an, "POST", "/console/api/staff", add, &added); got != http.StatusCreated || added["email"] != hoa || added["role"] != "operator" {
		t.Fatalf("add: %d %v", got, added)
	}
	for _, tc := range []struct {
		name string
		body map[string]string
		want int
	}{
		{"again", add, http.StatusConflict},
		{"short password", map[string]string{"email": "x@hanoi.gov.vn", "name": "Xuân", "role": "operator", "password": "ngắn"}, http.StatusBadRequest},
		{"bad role", map[string]string{"email": "x@hanoi.gov.vn", "name": "Xuân", "role": "boss", "password": hoaPassword}, http.StatusBadRequest},
		{"bad email", map[string]string{"email": "xuan", "name": "Xuân", "role": "operator", "password": hoaPassword}, http.StatusBadRequest},
		{"no name", map[string]string{"email": "x@hanoi.gov.vn", "role": "operator", "password": hoaPassword}, http.StatusBadRequest},
	} {
		if got := d.api(an, "POST", "/console/api/staff", tc.body, nil); got != tc.want {
			t.Errorf("add, %s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := d.api(an, "POST", "/console/api/staff/"+an+"/disable", nil, nil); got != http.StatusConflict {
		t.Errorf("an admin disables their own account: %d", got)
	}
	if got := d.api(an, "POST", "/console/api/staff/nobody@hanoi.gov.vn/disable", nil, nil); got != http.StatusNotFound {
		t.Errorf("disable an unknown account: %d", got)
	}
	var tok map[string]string
	if got := d.api(an, "POST", "/console/api/staff/"+hoa+"/token", nil, &tok); got != 200 || !strings.HasPrefix(tok["token"], bot.StaffTokenPrefix) {
		t.Fatalf("token: %d %v", got, tok)
	}
	d.tokens[hoa] = tok["token"]
	var me map[string]string
	if got := d.api(hoa, "GET", "/console/api/me", nil, &me); got != 200 || me["email"] != hoa {
		t.Errorf("the new token: %d %v", got, me)
	}
	if got := d.api(an, "POST", "/console/api/staff/"+hoa+"/password", map[string]string{"password": "ngắn"}, nil); got != http.StatusBadRequest {
		t.Errorf("a short new password: %d", got)
	}
	if got := d.api(an, "POST", "/console/api/staff/"+hoa+"/password", map[string]string{"password": "mật khẩu mới của Hoa"}, nil); got != 200 {
		t.Errorf("password: %d", got)
	}
	if got := d.api(an, "POST", "/console/api/staff/"+hoa+"/disable", nil, nil); got != 200 {
		t.Errorf("disable: %d", got)
	}
	if got := d.api(hoa, "GET", "/console/api/me", nil, nil); got != http.StatusUnauthorized {
		t.Errorf("the token of a disabled account: %d", got)
	}
	wantLines(t, "audit", d.auditLines(bot.AuditQuery{}), []string{
		an + " staff_disable " + hoa,
		an + " staff_password " + hoa,
		an + " staff_token " + hoa,
		an + " staff_add " + hoa + " operator",
	})
	res := d.raw(an, "GET", "/console/api/audit", "")
	if strings.Contains(res.body, tok["token"]) || strings.Contains(res.body, "Hoa 2026") || strings.Contains(res.body, "mới của Hoa") {
		t.Errorf("the audit holds a secret: %s", res.body)
	}
}

var tokenValue = `id="token" readonly value="`

// The staff page: add, new password, token shown once, disable; each form refused
// without its CSRF token; the own account cannot be disabled.
func TestStaffPage(t *testing.T) {
	d := newAdminDesk(t)
	c := d.browser()
	csrf := d.login(c, an, anPassword)
	_, page := d.get(c, "/console/staff")
	if !strings.Contains(page, "Tối thiểu 12 ký tự") || !strings.Contains(page, `minlength="12"`) {
		t.Error("the add form does not show the minimum password length")
	}
	if strings.Contains(page, "/console/staff/"+an+"/disable") {
		t.Error("the page offers to disable the admin's own account")
	}
	const hoa = "hoa@hanoi.gov.vn"
	add := url.Values{"email": {hoa}, "name": {"Phạm Thị Hoa"}, "role": {"admin"}, "password": {"mật khẩu của Hoa 2026"}}
	forms := []struct {
		path string
		v    url.Values
	}{
		{"/console/staff", add},
		{"/console/staff/" + minh + "/password", url.Values{"password": {"mật khẩu mới của Minh"}}},
		{"/console/staff/" + minh + "/token", url.Values{}},
		{"/console/staff/" + minh + "/disable", url.Values{}},
	}
	for _, f := range forms {
		if res, body := d.form(c, f.path, f.v); res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Phiên làm việc đã thay đổi") {
			t.Errorf("%s without CSRF: %d", f.path, res.StatusCode)
		}
	}
	if lines := d.auditLines(bot.AuditQuery{Action: bot.AuditStaffAdd}); len(lines) != 0 {
		t.Errorf("a refused form was audited: %v", lines)
	}
	with := func(v url.Values) url.Values {
		out := url.Values{"csrf": {csrf}}
		for k, vs := range v {
			out[k] = vs
		}
		return out
	}
	res, _ := d.form(c, "/console/staff", with(add))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/staff?flash=staff_added" {
		t.Fatalf("add: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if _, body := d.get(c, "/console/staff?flash=staff_added"); !strings.Contains(body, "Đã thêm tài khoản.") || !strings.Contains(body, "Phạm Thị Hoa") {
		t.Error("the page after adding shows neither the notice nor the account")
	}
	if res, body := d.form(c, "/console/staff", with(add)); res.StatusCode != http.StatusConflict || !strings.Contains(body, "Đã có tài khoản dùng email này.") {
		t.Errorf("add again: %d", res.StatusCode)
	}
	if res, body := d.form(c, "/console/staff/"+an+"/disable", with(nil)); res.StatusCode != http.StatusConflict || !strings.Contains(body, "Bạn không thể tự khóa tài khoản của chính mình.") {
		t.Errorf("disable the own account: %d", res.StatusCode)
	}
	res, body := d.form(c, "/console/staff/"+minh+"/token", with(nil))
	i := strings.Index(body, tokenValue)
	if res.StatusCode != 200 || i < 0 || !strings.Contains(body, "Mã này chỉ hiển thị một lần.") {
		t.Fatalf("token: %d", res.StatusCode)
	}
	token, _, _ := strings.Cut(body[i+len(tokenValue):], `"`)
	d.tokens[minh] = token
	if got := d.api(minh, "GET", "/console/api/me", nil, nil); got != 200 {
		t.Errorf("the token shown does not work: %d", got)
	}
	if _, again := d.get(c, "/console/staff"); strings.Contains(again, token) {
		t.Error("the token is shown again")
	}
	if res, _ := d.form(c, "/console/staff/"+minh+"/password", with(url.Values{"password": {"mật khẩu mới của Minh"}})); res.StatusCode != http.StatusSeeOther {
		t.Errorf("password: %d", res.StatusCode)
	}
	if res, _ := d.form(c, "/console/staff/"+minh+"/disable", with(nil)); res.StatusCode != http.StatusSeeOther {
		t.Errorf("disable: %d", res.StatusCode)
	}
	if _, body := d.get(c, "/console/staff?flash=staff_disabled"); !strings.Contains(body, "Đã khóa tài khoản.") {
		t.Error("no notice after disabling")
	}
	wantLines(t, "audit", d.auditLines(bot.AuditQuery{}), []string{
		an + " staff_disable " + minh,
		an + " staff_password " + minh,
		an + " staff_token " + minh,
		an + " staff_add " + hoa + " admin",
		an + " login ",
	})
}

// The canned answers page: operators read, admins add, edit and delete; forms need
// their CSRF token; a refused answer keeps what was typed.
func TestCannedPage(t *testing.T) {
	d := newAdminDesk(t)
	op := d.browser()
	opCSRF := d.login(op, lan, lanPassword)
	ad := d.browser()
	csrf := d.login(ad, an, anPassword)
	answer := url.Values{"id": {"le-phi"}, "title": {"Lệ phí"}, "vi": {"Chào {name}, hồ sơ {reference} không mất lệ phí."}, "en": {""}}
	if res, _ := d.form(op, "/console/canned", with(answer, opCSRF)); res.StatusCode != http.StatusForbidden {
		t.Errorf("an operator saves an answer: %d", res.StatusCode)
	}
	if res, _ := d.form(ad, "/console/canned", answer); res.StatusCode != http.StatusForbidden {
		t.Errorf("an answer without CSRF: %d", res.StatusCode)
	}
	bad := with(answer, csrf)
	bad.Set("id", "Lệ phí")
	if res, body := d.form(ad, "/console/canned", bad); res.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "Chưa lưu được mẫu") || !strings.Contains(body, "hồ sơ {reference} không mất lệ phí.</textarea>") {
		t.Errorf("a bad id: %d", res.StatusCode)
	}
	if res, _ := d.form(ad, "/console/canned", with(answer, csrf)); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/canned?flash=canned_saved" {
		t.Fatalf("save: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	edit := with(answer, csrf)
	edit.Set("en", "Hello {name}, submission {reference} is free of charge.")
	if res, _ := d.form(ad, "/console/canned", edit); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", res.StatusCode)
	}
	var list []bot.CannedAnswer
	if d.api(lan, "GET", "/console/api/canned", nil, &list) != 200 || len(list) != 1 || list[0].Text["en"] != edit.Get("en") || list[0].UpdatedBy != an {
		t.Fatalf("after the edit: %+v", list)
	}
	_, body := d.get(op, "/console/canned")
	if !strings.Contains(body, "Lệ phí") || !strings.Contains(body, "free of charge") || strings.Contains(body, "/console/canned/le-phi/delete") {
		t.Error("an operator's page: want the answer, without the admin's forms")
	}
	if _, body := d.get(ad, "/console/canned"); !strings.Contains(body, `action="/console/canned/le-phi/delete"`) {
		t.Error("an admin's page lacks the delete form")
	}
	if res, _ := d.form(ad, "/console/canned/le-phi/delete", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("delete without CSRF: %d", res.StatusCode)
	}
	if res, _ := d.form(ad, "/console/canned/le-phi/delete", with(nil, csrf)); res.StatusCode != http.StatusSeeOther {
		t.Errorf("delete: %d", res.StatusCode)
	}
	if res, _ := d.form(ad, "/console/canned/le-phi/delete", with(nil, csrf)); res.StatusCode != http.StatusNotFound {
		t.Errorf("delete again: %d", res.StatusCode)
	}
	wantLines(t, "audit", d.auditLines(bot.AuditQuery{Staff: an, Limit: 3}), []string{
		an + " canned_delete le-phi", an + " canned_put le-phi", an + " canned_put le-phi",
	})
}

// with is v and a CSRF token.
func with(v url.Values, csrf string) url.Values {
	out := url.Values{"csrf": {csrf}}
	for k, vs := range v {
		out[k] = vs
	}
	return out
}

// The audit page: newest first in the city's time, filtered by staff, action and
// days, paged.
func TestAuditPage(t *testing.T) {
	d := newAdminDesk(t)
	trail := d.st.Audit(redisstore.AuditOptions{Now: func() time.Time { return d.now }})
	ctx := context.Background()
	// 60 replies by Minh on 20/11, one a minute from 16:30 UTC (23:30 in Hanoi), so
	// that they run past midnight into 21/11 in the city; one note by Lan on 25/11.
	start := time.Date(2026, 11, 20, 16, 30, 0, 0, time.UTC)
	for i := range 60 {
		e := bot.AuditEntry{At: start.Add(time.Duration(i) * time.Minute), Staff: minh, Action: bot.AuditReply, Detail: "r" + string(rune('A'+i%26)) + time.Duration(i).String()}
		if err := trail.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := trail.Record(ctx, bot.AuditEntry{At: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), Staff: lan, Action: bot.AuditNote, Detail: "12 characters"}); err != nil {
		t.Fatal(err)
	}
	c := d.browser()
	d.login(c, an, anPassword)
	_, body := d.get(c, "/console/audit?action=note")
	if !strings.Contains(body, "25/11/2026 10:00") || !strings.Contains(body, lan) || strings.Contains(body, minh) {
		t.Errorf("the note, in Hanoi time: %s", body)
	}
	count := func(body string) int { return strings.Count(body, "<time datetime=") }
	_, body = d.get(c, "/console/audit?staff="+url.QueryEscape(minh))
	if n := count(body); n != 50 || !strings.Contains(body, `rel="next"`) {
		t.Fatalf("first page of Minh's: %d entries, next link %v", n, strings.Contains(body, `rel="next"`))
	}
	next := between(body, `<a href="`, `" rel="next"`)
	_, body2 := d.get(c, strings.ReplaceAll(next, "&amp;", "&"))
	if n := count(body2); n != 10 || strings.Contains(body2, `rel="next"`) || !strings.Contains(body2, "20/11/2026 23:30") {
		t.Errorf("second page of Minh's: %d entries", n)
	}
	// 21/11 in Hanoi is from 17:00 UTC on 20/11: entries 30 to 59.
	_, body = d.get(c, "/console/audit?from=2026-11-21&to=2026-11-21")
	if n := count(body); n != 30 || strings.Contains(body, "20/11/2026") || strings.Contains(body, lan) {
		t.Errorf("21/11: %d entries", n)
	}
	_, body = d.get(c, "/console/audit?to=2026-11-20")
	if n := count(body); n != 30 || strings.Contains(body, "21/11/2026") {
		t.Errorf("up to 20/11: %d entries", n)
	}
	if res, _ := d.get(c, "/console/audit?from=2026-11-22&to=2026-11-21"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a range backwards: %d", res.StatusCode)
	}
	if res, _ := d.get(c, "/console/audit?before=nonsense"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad cursor: %d", res.StatusCode)
	}
}

func between(s, open, end string) string {
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	i := strings.LastIndex(s[:j], open)
	if i < 0 {
		return ""
	}
	return s[i+len(open) : j]
}

// Holidays: an admin's day off moves a waiting conversation's due time, a make-up
// Saturday counts, a day of the file can be taken out and restored; another console
// process sees the edits within HolidaysRefresh.
func TestHolidaysPage(t *testing.T) {
	d := newAdminDesk(t)
	_, other := d.serve()
	conv := d.citizenAsks() // Tuesday 1/12/2026 09:00: due Wednesday 2/12 09:00
	due := func(base string) time.Time {
		t.Helper()
		req, _ := http.NewRequest("GET", base+convPath(conv, ""), nil)
		req.Header.Set("Authorization", "Bearer "+d.tokens[lan])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var r row
		if err := json.NewDecoder(res.Body).Decode(&r); err != nil || r.Due == nil {
			t.Fatalf("conversation: %v %+v", err, r)
		}
		return r.Due.In(bot.HoChiMinh())
	}
	at := func(s string) time.Time {
		v, _ := time.ParseInLocation("2006-01-02 15:04", s, bot.HoChiMinh())
		return v
	}
	if got := due(d.srv.URL); !got.Equal(at("2026-12-02 09:00")) {
		t.Fatalf("due before any edit: %v", got)
	}
	due(other.URL) // the other process reads the calendar now, and keeps it a while

	c := d.browser()
	csrf := d.login(c, an, anPassword)
	day := func(date, kind, name string) url.Values {
		return url.Values{"date": {date}, "kind": {kind}, "name": {name}}
	}
	if res, _ := d.form(c, "/console/holidays", day("2026-12-02", "off", "Nghỉ đột xuất")); res.StatusCode != http.StatusForbidden {
		t.Errorf("an edit without CSRF: %d", res.StatusCode)
	}
	op := d.browser()
	opCSRF := d.login(op, lan, lanPassword)
	if res, _ := d.form(op, "/console/holidays", with(day("2026-12-02", "off", "Nghỉ đột xuất"), opCSRF)); res.StatusCode != http.StatusForbidden {
		t.Errorf("an operator's edit: %d", res.StatusCode)
	}
	for _, bad := range []url.Values{day("2026-12-05", "off", "Thứ Bảy"), day("2026-12-03", "work", "Thứ Năm"), day("2026-12-03", "off", ""), day("3/12/2026", "off", "Nghỉ")} {
		if res, body := d.form(c, "/console/holidays", with(bad, csrf)); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Chưa lưu được") {
			t.Errorf("a bad day %v: %d", bad, res.StatusCode)
		}
	}
	for _, v := range []url.Values{day("2026-12-02", "off", "Nghỉ đột xuất"), day("2026-12-03", "off", "Nghỉ đột xuất"), day("2026-12-04", "off", "Nghỉ đột xuất")} {
		if res, _ := d.form(c, "/console/holidays", with(v, csrf)); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/holidays?flash=holiday_saved" {
			t.Fatalf("add %v: %d %s", v, res.StatusCode, res.Header.Get("Location"))
		}
	}
	if got := due(d.srv.URL); !got.Equal(at("2026-12-07 09:00")) {
		t.Errorf("due with 2 to 4/12 off: %v, want Monday 7/12 09:00", got)
	}
	if got := due(other.URL); !got.Equal(at("2026-12-02 09:00")) {
		t.Errorf("the other process re-read the edits before its refresh: %v", got)
	}
	if res, _ := d.form(c, "/console/holidays", with(day("2026-12-05", "work", "Làm bù"), csrf)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the make-up Saturday: %d", res.StatusCode)
	}
	if got := due(d.srv.URL); !got.Equal(at("2026-12-05 09:00")) {
		t.Errorf("due with Saturday 5/12 worked: %v", got)
	}
	d.advance(console.HolidaysRefresh + time.Second)
	if got := due(other.URL); !got.Equal(at("2026-12-05 09:00")) {
		t.Errorf("the other process after its refresh: %v", got)
	}
	_, body := d.get(c, "/console/holidays")
	if !strings.Contains(body, "Thứ Bảy 05/12/2026") || !strings.Contains(body, "Làm bù") || !strings.Contains(body, "Đã chỉnh sửa") {
		t.Error("the page does not list the make-up Saturday as edited")
	}
	// Removing an admin's day deletes the edit; removing a day of the file overrides it.
	if res, _ := d.form(c, "/console/holidays/2026-12-05/remove", with(nil, csrf)); res.StatusCode != http.StatusSeeOther {
		t.Errorf("remove the Saturday: %d", res.StatusCode)
	}
	if res, _ := d.form(c, "/console/holidays/2027-02-08/remove", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("remove without CSRF: %d", res.StatusCode)
	}
	if res, _ := d.form(c, "/console/holidays/2027-02-08/remove", with(nil, csrf)); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/holidays?flash=holiday_taken" {
		t.Errorf("remove a Tết day: %d", res.StatusCode)
	}
	if res, _ := d.form(c, "/console/holidays/2027-03-02/remove", with(nil, csrf)); res.StatusCode != http.StatusNotFound {
		t.Errorf("remove a day not listed: %d", res.StatusCode)
	}
	var cal struct {
		Days  []struct{ Date, Kind, Name string }
		Edits []struct{ Date, Kind, Name string }
	}
	if d.api(an, "GET", "/console/api/holidays", nil, &cal) != 200 {
		t.Fatal("the holidays API")
	}
	var edits []string
	for _, e := range cal.Edits {
		edits = append(edits, e.Date+" "+e.Kind+" "+e.Name)
	}
	wantLines(t, "edits", edits, []string{
		"2026-12-02 off Nghỉ đột xuất", "2026-12-03 off Nghỉ đột xuất", "2026-12-04 off Nghỉ đột xuất", "2027-02-08 normal ",
	})
	for _, x := range cal.Days {
		if x.Date == "2027-02-08" || x.Date == "2026-12-05" {
			t.Errorf("%s is still listed", x.Date)
		}
	}
	_, body = d.get(c, "/console/holidays")
	if !strings.Contains(body, "Các ngày đã bỏ khỏi lịch mặc định") || !strings.Contains(body, `action="/console/holidays/2027-02-08/restore"`) {
		t.Error("the page does not offer to restore the Tết day")
	}
	if res, _ := d.form(c, "/console/holidays/2027-02-08/restore", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("restore without CSRF: %d", res.StatusCode)
	}
	if res, _ := d.form(c, "/console/holidays/2027-02-08/restore", with(nil, csrf)); res.StatusCode != http.StatusSeeOther {
		t.Errorf("restore: %d", res.StatusCode)
	}
	if _, body := d.get(c, "/console/holidays?flash=holiday_back"); strings.Contains(body, "/console/holidays/2027-02-08/restore") || !strings.Contains(body, "08/02/2027") {
		t.Error("the restored Tết day is not listed again")
	}
	wantLines(t, "audit", d.auditLines(bot.AuditQuery{Staff: an, Limit: 4}), []string{
		an + " holiday_delete 2027-02-08",
		an + " holiday_put 2027-02-08 normal",
		an + " holiday_delete 2026-12-05",
		an + " holiday_put 2026-12-05 work Làm bù",
	})
}
