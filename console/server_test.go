package console_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien"
	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/console"
	"github.com/sangkien/sangkien/flows"
	"github.com/sangkien/sangkien/locales"
	"github.com/sangkien/sangkien/programs"
)

// desk is a console on a real Redis, with the real engine and flows behind it, and
// three accounts: operators Lan and Minh, admin An.
type desk struct {
	t       testing.TB
	srv     *httptest.Server
	console *console.Server
	st      *redisstore.Store
	staff   *redisstore.Staff
	engine  *bot.Engine
	tokens  map[string]string // by email
	mu      sync.Mutex
	now     time.Time
	citizen int
}

const (
	minh, minhPassword = "minh@hanoi.gov.vn", "mật khẩu của Minh 2026"
	an, anPassword     = "an@hanoi.gov.vn", "mật khẩu của An 2026!"
)

// newDesk starts the console; with sets Config's optional parts.
func newDesk(t testing.TB, secure bool, with ...func(*console.Config)) *desk {
	t.Helper()
	d := &desk{t: t, tokens: map[string]string{}, now: time.Date(2026, 12, 1, 9, 0, 0, 0, bot.HoChiMinh())}
	clock := func() time.Time {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.now
	}
	d.st = redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	d.staff = d.st.Staff(redisstore.StaffOptions{AccountFailures: 3, AddressFailures: 50, Now: clock})
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	progs, err := programs.Load(bytes.NewReader(sangkien.DefaultPrograms))
	if err != nil {
		t.Fatal(err)
	}
	router, err := flows.NewRouter(flows.Config{Programs: progs, Catalog: cat, Refs: d.st, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	d.engine, err = bot.NewEngine(bot.EngineConfig{Store: d.st, Conversation: router, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	acc := console.Accounts{Store: d.staff, Cost: bcrypt.MinCost}
	ctx := context.Background()
	for _, a := range []struct {
		email, name, password string
		role                  bot.Role
	}{{lan, "Nguyễn Thị Lan", lanPassword, bot.RoleOperator}, {minh, "Trần Văn Minh", minhPassword, bot.RoleOperator}, {an, "Lê An", anPassword, bot.RoleAdmin}} {
		if err := acc.Add(ctx, a.email, a.name, a.role, a.password); err != nil {
			t.Fatal(err)
		}
		if d.tokens[a.email], err = d.staff.NewToken(ctx, a.email); err != nil {
			t.Fatal(err)
		}
	}
	cfg := console.Config{
		Engine: d.engine, Accounts: acc, Sessions: d.staff, Conversations: d.st, Submissions: d.st,
		Audit: d.st.Audit(redisstore.AuditOptions{Now: clock}), Canned: d.st.Canned(), Changes: d.st,
		Programs: progs, Secure: secure, Now: clock,
	}
	for _, f := range with {
		f(&cfg)
	}
	srv, err := console.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.console = srv
	d.srv = httptest.NewServer(srv)
	t.Cleanup(d.srv.Close)
	return d
}

func (d *desk) advance(by time.Duration) {
	d.mu.Lock()
	d.now = d.now.Add(by)
	d.mu.Unlock()
}

// citizenAsks is a Telegram citizen who writes, then asks for a person; it returns
// the conversation.
func (d *desk) citizenAsks() bot.ConversationRef {
	d.t.Helper()
	d.citizen++
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: "10" + string(rune('0'+d.citizen))}
	for i, text := range []string{"xin chào", "gặp cán bộ"} {
		ev := bot.Event{ID: conv.ID + "-" + string(rune('a'+i)), Conversation: conv, Kind: bot.EventText, Text: text, Lang: "vi"}
		if _, err := d.engine.Handle(context.Background(), ev); err != nil {
			d.t.Fatal(err)
		}
	}
	return conv
}

// api calls the JSON API with email's token ("" for none) and decodes the answer into
// out (when not nil); it returns the status.
func (d *desk) api(email, method, path string, body any, out any) int {
	d.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, d.srv.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if email != "" {
		req.Header.Set("Authorization", "Bearer "+d.tokens[email])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 400 {
		var e struct{ Error string }
		if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
			d.t.Errorf("%s %s: %d without a JSON error: %s", method, path, res.StatusCode, b)
		}
	}
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			d.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return res.StatusCode
}

type row struct {
	Key          string     `json:"key"`
	Channel      string     `json:"channel"`
	Lang         string     `json:"lang"`
	Status       string     `json:"status"`
	Assignee     string     `json:"assignee"`
	WaitingSince *time.Time `json:"waiting_since"`
	Due          *time.Time `json:"due"`
	Clock        string     `json:"clock"`
	LastText     string     `json:"last_text"`
	HeldBy       string     `json:"held_by"`
}

func convPath(conv bot.ConversationRef, action string) string {
	p := "/console/api/conversations/" + url.PathEscape(conv.Key())
	if action != "" {
		p += "/" + action
	}
	return p
}

// The API without a token, with a wrong one, and an operator's on an admin route.
func TestAPIRefuses(t *testing.T) {
	d := newDesk(t, false)
	for _, c := range []struct {
		who, method, path string
		want              int
	}{
		{"", "GET", "/console/api/conversations", http.StatusUnauthorized},
		{"", "POST", "/console/api/submissions/x/resend", http.StatusUnauthorized},
		{lan, "GET", "/console/api/submissions?state=refused", http.StatusForbidden},
		{lan, "POST", "/console/api/submissions/x/resend", http.StatusForbidden},
		{an, "GET", "/console/api/submissions?state=refused", http.StatusOK},
		{an, "POST", "/console/api/submissions/nope/resend", http.StatusNotFound},
		{an, "GET", "/console/api/submissions?state=lost", http.StatusBadRequest},
		{lan, "GET", "/console/api/conversations?status=sleeping", http.StatusBadRequest},
		{lan, "GET", "/console/api/conversations/tg:404", http.StatusNotFound},
		{lan, "POST", "/console/api/conversations/tg:404/takeover", http.StatusNotFound},
		{lan, "GET", "/console/api/nothing", http.StatusNotFound},
	} {
		if got := d.api(c.who, c.method, c.path, nil, nil); got != c.want {
			t.Errorf("%s %s as %q: %d, want %d", c.method, c.path, c.who, got, c.want)
		}
	}
	req, _ := http.NewRequest("GET", d.srv.URL+"/console/api/conversations", nil)
	req.Header.Set("Authorization", "Bearer sk_not-a-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d", res.StatusCode)
	}
}

// A citizen asks for a person: the conversation waits with its clock; Lan takes it
// over, Minh cannot, Lan replies, notes, hands back and resolves.
func TestAPIAnswersACitizen(t *testing.T) {
	d := newDesk(t, false)
	conv := d.citizenAsks()
	d.advance(2 * time.Hour)
	var rows []row
	if d.api(lan, "GET", "/console/api/conversations?status=waiting", nil, &rows) != 200 || len(rows) != 1 {
		t.Fatalf("waiting: %+v", rows)
	}
	r := rows[0]
	if r.Key != conv.Key() || r.Channel != "telegram" || r.Lang != "vi" || r.Status != "waiting" || r.WaitingSince == nil ||
		r.Due == nil || r.Clock != "on_time" || r.LastText != "gặp cán bộ" {
		t.Fatalf("waiting row: %+v", r)
	}
	// Asked at 09:00 on Tuesday: one working day later is 09:00 on Wednesday.
	if want := time.Date(2026, 12, 2, 9, 0, 0, 0, bot.HoChiMinh()); !r.Due.Equal(want) {
		t.Errorf("due %v, want %v", r.Due, want)
	}
	if d.api(lan, "POST", convPath(conv, "takeover"), nil, &r) != 200 || r.Assignee != lan {
		t.Fatalf("takeover: %+v", r)
	}
	var held row
	if got := d.api(minh, "POST", convPath(conv, "takeover"), nil, &held); got != http.StatusConflict {
		t.Fatalf("a second takeover: %d", got)
	}
	res := d.raw(minh, "POST", convPath(conv, "reply"), `{"text":"Tôi trả lời thay"}`)
	if res.code != http.StatusConflict || !strings.Contains(res.body, `"held_by":"`+lan+`"`) {
		t.Errorf("a second operator's reply: %d %s", res.code, res.body)
	}
	for _, bad := range []string{`{"text":"   "}`, `{"text":` + strings.Repeat("a", 10) + `}`, `not json`} {
		if res := d.raw(lan, "POST", convPath(conv, "reply"), bad); res.code != http.StatusBadRequest {
			t.Errorf("reply %q: %d", bad, res.code)
		}
	}
	if d.api(lan, "POST", convPath(conv, "reply"), map[string]string{"text": "Chào bạn, mình là Lan."}, &r) != 200 || r.Status != "open" {
		t.Fatalf("reply: %+v", r)
	}
	if d.api(lan, "POST", convPath(conv, "note"), map[string]string{"text": "Hẹn gọi lại chiều nay."}, nil) != 200 {
		t.Fatal("note refused")
	}
	if got := d.api(lan, "POST", convPath(conv, "assign"), map[string]string{"email": "ai@hanoi.gov.vn"}, nil); got != http.StatusBadRequest {
		t.Errorf("assign to nobody: %d", got)
	}
	if d.api(lan, "POST", convPath(conv, "assign"), map[string]string{"email": "MINH@hanoi.gov.vn"}, &r) != 200 || r.Assignee != minh {
		t.Fatalf("assign: %+v", r)
	}
	if d.api(minh, "POST", convPath(conv, "handback"), nil, nil) != 200 || d.api(minh, "POST", convPath(conv, "resolve"), nil, &r) != 200 ||
		r.Status != "resolved" {
		t.Fatalf("handback and resolve: %+v", r)
	}
	var detail struct {
		row
		Transcript []struct {
			bot.TranscriptEntry
			Delivery *bot.DeliveryState `json:"delivery"`
		} `json:"transcript"`
		Draft *bot.Draft `json:"draft"`
	}
	if d.api(lan, "GET", convPath(conv, ""), nil, &detail) != 200 {
		t.Fatal("detail")
	}
	var kinds []string
	for _, e := range detail.Transcript {
		kinds = append(kinds, e.Kind)
		// What staff sent is followed (nothing is sending here: queued); the bot's
		// answers to the citizen and the staff's own actions are not.
		followed := e.Kind == "staff_reply" || (e.Kind == "reply" && strings.HasPrefix(e.EventID, "console:"))
		if followed != (e.Delivery != nil) || (followed && e.Delivery.State != bot.DeliveryQueued) {
			t.Errorf("%s %q: delivery %+v", e.Kind, e.Text, e.Delivery)
		}
	}
	got := strings.Join(kinds, " ")
	want := "text reply text reply staff_join reply staff_reply staff_note staff_assign staff_handback reply reply staff_resolve"
	if got != want {
		t.Errorf("transcript kinds:\n got %s\nwant %s", got, want)
	}
	// What reached the citizen's channel: the joined notice, the reply, the hand-back
	// (the note, the assignment and the resolve sent nothing).
	if n := d.queued(); n != 6 {
		t.Errorf("%d replies queued for Telegram, want 6 (2 bot answers, joined, reply, handed back and its question)", n)
	}
	if d.api(lan, "GET", "/console/api/conversations?status=waiting", nil, &rows) != 200 || len(rows) != 0 {
		t.Errorf("still waiting: %+v", rows)
	}
	if d.api(lan, "GET", "/console/api/conversations?q="+url.QueryEscape(conv.Key()), nil, &rows) != 200 || len(rows) != 1 {
		t.Errorf("search by key: %+v", rows)
	}
}

// queued counts the replies in Telegram's delivery queues.
func (d *desk) queued() int64 {
	d.t.Helper()
	var n int64
	for sh := range redisstore.Shards {
		c, err := redistest.Client(d.t).XLen(context.Background(), d.st.OutboundStream(sh, bot.Telegram)).Result()
		if err != nil {
			d.t.Fatal(err)
		}
		n += c
	}
	return n
}

type rawAnswer struct {
	code int
	body string
}

func (d *desk) raw(email, method, path, body string) rawAnswer {
	d.t.Helper()
	req, _ := http.NewRequest(method, d.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.tokens[email])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return rawAnswer{res.StatusCode, string(b)}
}

// browser is a client with a cookie jar, as a browser would be (it follows no
// redirect, so that tests see them).
func (d *desk) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (d *desk) form(c *http.Client, path string, v url.Values, header ...string) (*http.Response, string) {
	d.t.Helper()
	req, _ := http.NewRequest("POST", d.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (d *desk) get(c *http.Client, path string) (*http.Response, string) {
	d.t.Helper()
	res, err := c.Get(d.srv.URL + path)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var csrfAttr = regexp.MustCompile(`data-csrf="([^"]+)"`)

// login logs c in and returns the session's CSRF token, read off the inbox page.
func (d *desk) login(c *http.Client, email, password string) string {
	d.t.Helper()
	res, _ := d.form(c, "/console/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/" {
		d.t.Fatalf("login: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := d.get(c, "/console/")
	m := csrfAttr.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		d.t.Fatalf("inbox after login: %d, csrf %v", res.StatusCode, m)
	}
	return m[1]
}

// Logging in: the same answer for an unknown email and a wrong password, a cookie
// with the right flags, a new session id at each login, CSRF required on every change.
func TestLoginAndCSRF(t *testing.T) {
	d := newDesk(t, true)
	conv := d.citizenAsks()
	c := d.browser()
	if res, body := d.get(c, "/console/"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/login" {
		t.Fatalf("inbox without a session: %d %s", res.StatusCode, body)
	}
	res, body := d.get(c, "/console/login")
	if res.StatusCode != 200 || !strings.Contains(body, `<label for="password">Mật khẩu</label>`) {
		t.Fatalf("login page: %d %s", res.StatusCode, body)
	}
	_, unknown := d.form(c, "/console/login", url.Values{"email": {"ai@hanoi.gov.vn"}, "password": {lanPassword}})
	res, wrong := d.form(c, "/console/login", url.Values{"email": {lan}, "password": {"sai mật khẩu rồi"}})
	if res.StatusCode != http.StatusUnauthorized || strings.ReplaceAll(unknown, "ai@hanoi.gov.vn", lan) != wrong ||
		!strings.Contains(wrong, "Email hoặc mật khẩu không đúng.") {
		t.Errorf("unknown email and wrong password answer differently (%d):\n%s\n%s", res.StatusCode, unknown, wrong)
	}
	res, _ = d.form(c, "/console/login", url.Values{"email": {lan}, "password": {lanPassword}})
	var cookie *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == console.SessionCookie {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/console/" {
		t.Fatalf("session cookie: %+v", cookie)
	}
	csrf := d.login(c, lan, lanPassword)
	u, _ := url.Parse(d.srv.URL + "/console/")
	if now := c.Jar.Cookies(u)[0].Value; now == cookie.Value {
		t.Error("a second login kept the session id")
	}
	if _, _, err := d.staff.Session(context.Background(), cookie.Value); err == nil {
		t.Error("the first session still works after the second login")
	}
	action := "/console/conversations/" + url.PathEscape(conv.Key()) + "/takeover"
	if res, _ := d.form(c, action, url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a form without its CSRF token: %d", res.StatusCode)
	}
	if res, _ := d.form(c, action, url.Values{"csrf": {csrf}}, "Sec-Fetch-Site", "cross-site"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site form: %d", res.StatusCode)
	}
	apiReq := func(token string) int {
		req, _ := http.NewRequest("POST", d.srv.URL+convPath(conv, "note"), strings.NewReader(`{"text":"ghi chú"}`))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set(console.CSRFHeader, token)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := apiReq(""); got != http.StatusForbidden {
		t.Errorf("the API with the cookie and no CSRF token: %d", got)
	}
	if got := apiReq(csrf); got != http.StatusOK {
		t.Errorf("the API with the cookie and its CSRF token: %d", got)
	}
	res, _ = d.form(c, action, url.Values{"csrf": {csrf}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "?flash=takeover") {
		t.Fatalf("takeover form: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, body = d.get(c, res.Header.Get("Location"))
	if res.StatusCode != 200 || !strings.Contains(body, "Bạn đã nhận xử lý cuộc trò chuyện.") || !strings.Contains(body, "gặp cán bộ") {
		t.Errorf("conversation page after the takeover: %d", res.StatusCode)
	}
	if res, _ := d.form(c, "/console/logout", url.Values{"csrf": {csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", res.StatusCode)
	}
	if res, _ := d.get(c, "/console/"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("inbox after logout: %d", res.StatusCode)
	}
}

// Three failed logins lock the account for a while, even with the right password.
func TestLoginLimit(t *testing.T) {
	d := newDesk(t, false)
	c := d.browser()
	for range 3 {
		d.form(c, "/console/login", url.Values{"email": {lan}, "password": {"không phải mật khẩu"}})
	}
	res, body := d.form(c, "/console/login", url.Values{"email": {lan}, "password": {lanPassword}})
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "15 phút") {
		t.Errorf("after three failures: %d", res.StatusCode)
	}
}

// A session left idle longer than its timeout ends: the pages go back to the login.
func TestSessionExpires(t *testing.T) {
	d := newDesk(t, false)
	c := d.browser()
	d.login(c, lan, lanPassword)
	d.advance(redisstore.DefaultSessionIdle + time.Minute)
	if res, _ := d.get(c, "/console/"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after the idle timeout: %d", res.StatusCode)
	}
}

// Operators cannot open the admins' pages; the pages come in the staff's language.
func TestPagesByRoleAndLanguage(t *testing.T) {
	d := newDesk(t, false)
	d.citizenAsks()
	c := d.browser()
	d.login(c, lan, lanPassword)
	if res, _ := d.get(c, "/console/submissions"); res.StatusCode != http.StatusForbidden {
		t.Errorf("an operator on the submissions page: %d", res.StatusCode)
	}
	res, body := d.get(c, "/console/?lang=en")
	if res.StatusCode != 200 || !strings.Contains(body, "Waiting for staff") || !strings.Contains(body, `<html lang="en">`) {
		t.Errorf("inbox in English: %d", res.StatusCode)
	}
	if _, body := d.get(c, "/console/"); !strings.Contains(body, "Waiting for staff") {
		t.Error("the language chosen is not remembered")
	}
	a := d.browser()
	d.login(a, an, anPassword)
	if res, body := d.get(a, "/console/submissions"); res.StatusCode != 200 || !strings.Contains(body, "Không có hồ sơ nào bị từ chối.") {
		t.Errorf("an admin on the submissions page: %d", res.StatusCode)
	}
}

// Every staff action is in the audit trail with who and what, never a reply's words;
// only admins read it.
func TestAuditTrail(t *testing.T) {
	d := newDesk(t, false)
	conv := d.citizenAsks()
	c := d.browser()
	d.login(c, lan, lanPassword)
	d.form(d.browser(), "/console/login", url.Values{"email": {minh}, "password": {"sai rồi, sai rồi"}})
	d.api(lan, "POST", convPath(conv, "takeover"), nil, nil)
	d.api(lan, "POST", convPath(conv, "reply"), map[string]string{"text": "Chào bạn Trần Văn Bình"}, nil)
	d.api(lan, "POST", convPath(conv, "resolve"), nil, nil)
	if got := d.api(lan, "GET", "/console/api/audit", nil, nil); got != http.StatusForbidden {
		t.Errorf("an operator reads the audit: %d", got)
	}
	var page struct {
		Entries []bot.AuditEntry `json:"entries"`
	}
	res := d.raw(an, "GET", "/console/api/audit", "")
	if res.code != 200 || strings.Contains(res.body, "Bình") || strings.Contains(res.body, lanPassword) || strings.Contains(res.body, "sai rồi") {
		t.Fatalf("audit: %d %s", res.code, res.body)
	}
	if err := json.Unmarshal([]byte(res.body), &page); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Staff+" "+e.Action+" "+e.Conversation+" "+e.Detail)
	}
	want := []string{
		lan + " resolve " + conv.Key() + " ",
		lan + " reply " + conv.Key() + " 22 characters",
		lan + " takeover " + conv.Key() + " ",
		minh + " login_failed  ",
		lan + " login  ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The actions came with Lan's API token, the login in a browser.
	for _, e := range page.Entries {
		if want := map[bool]string{true: bot.AuditViaToken}[e.Conversation != ""]; e.Via != want {
			t.Errorf("%s %s: via %q, want %q", e.Staff, e.Action, e.Via, want)
		}
	}
}

// Admins keep the canned answers; the reply form offers them in the citizen's
// language, with the placeholders filled.
func TestCannedAnswers(t *testing.T) {
	d := newDesk(t, false)
	conv := d.citizenAsks()
	answer := map[string]any{"title": "Chào hỏi", "text": map[string]string{
		"vi": "Chào bạn {name}, cán bộ đã nhận được tin nhắn của bạn.", "en": "Hello {name}, we have your message."}}
	if got := d.api(lan, "PUT", "/console/api/canned/chao-hoi", answer, nil); got != http.StatusForbidden {
		t.Errorf("an operator writes a canned answer: %d", got)
	}
	if got := d.api(an, "PUT", "/console/api/canned/Chào hỏi", answer, nil); got != http.StatusBadRequest {
		t.Errorf("a canned answer with a bad id: %d", got)
	}
	if got := d.api(an, "PUT", "/console/api/canned/chao-hoi", answer, nil); got != 200 {
		t.Fatalf("put: %d", got)
	}
	var list []bot.CannedAnswer
	if d.api(lan, "GET", "/console/api/canned", nil, &list) != 200 || len(list) != 1 || list[0].UpdatedBy != an {
		t.Fatalf("list: %+v", list)
	}
	c := d.browser()
	d.login(c, lan, lanPassword)
	_, body := d.get(c, "/console/conversations/"+url.PathEscape(conv.Key()))
	if !strings.Contains(body, `value="Chào bạn , cán bộ đã nhận được tin nhắn của bạn."`) {
		t.Errorf("the conversation page does not offer the canned answer in Vietnamese:\n%s", body)
	}
	if got := d.api(an, "DELETE", "/console/api/canned/chao-hoi", nil, nil); got != 200 {
		t.Errorf("delete: %d", got)
	}
	if got := d.api(an, "DELETE", "/console/api/canned/chao-hoi", nil, nil); got != http.StatusNotFound {
		t.Errorf("delete again: %d", got)
	}
}

// Beside the transcript: each of the citizen's submissions with its status as the
// citizen is told it, the city's id, and its status history; a refused one says what
// to do.
func TestConversationShowsSubmissions(t *testing.T) {
	d := newDesk(t, false)
	conv := d.citizenAsks()
	for i, st := range []bot.StatusChange{
		{SubmissionID: "sub-1", Reference: "HN-2026-000123", Status: bot.StatusReceived, IntakeID: "TP-7781"},
		{SubmissionID: "sub-1", Status: bot.StatusUnderReview},
		{SubmissionID: "sub-2", Reference: "HN-2026-000124", Status: bot.StatusUndelivered},
	} {
		d.advance(time.Hour)
		st.At = d.now
		ev := bot.Event{ID: "status-" + string(rune('a'+i)), Conversation: conv, Kind: bot.EventStatus, Status: &st}
		if _, err := d.engine.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	c := d.browser()
	d.login(c, lan, lanPassword)
	res, page := d.get(c, "/console/conversations/"+url.PathEscape(conv.Key()))
	if res.StatusCode != 200 {
		t.Fatalf("page: %d", res.StatusCode)
	}
	for _, want := range []string{"HN-2026-000123", "Đang xem xét", "Mã hồ sơ do Thành phố cấp: TP-7781", "Lịch sử trạng thái",
		"Đã tiếp nhận", "HN-2026-000124", "Bị hệ thống tiếp nhận của Thành phố từ chối", "Cần khắc phục nguyên nhân rồi gửi lại"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "Xem hồ sơ bị từ chối") {
		t.Error("an operator is offered the refused list, which is the admins'")
	}
	var detail struct {
		Submissions []bot.SubmissionSummary `json:"submissions"`
	}
	if d.api(lan, "GET", convPath(conv, ""), nil, &detail) != 200 || len(detail.Submissions) != 2 {
		t.Fatalf("detail: %+v", detail)
	}
	s := detail.Submissions[0]
	if s.IntakeID != "TP-7781" || len(s.History) != 2 || s.History[0].Status != bot.StatusReceived || s.History[1].Status != bot.StatusUnderReview {
		t.Errorf("the first submission: %+v", s)
	}
}

// The inbox filters by the catalog's programs, by name; a conversation is assigned
// to a colleague picked from the active accounts (not the one looking, who has
// "assign to me"), and the form does it.
func TestPagesOfferChoices(t *testing.T) {
	d := newDesk(t, false)
	conv := d.citizenAsks()
	c := d.browser()
	csrf := d.login(c, lan, lanPassword)
	_, inbox := d.get(c, "/console/")
	if !strings.Contains(inbox, `value="chuyen-doi-so-phuong-xa"`) || !strings.Contains(inbox, `>Chuyển đổi số phường, xã</option>`) {
		t.Errorf("the program filter lacks the catalog's programs: %s", inbox)
	}
	path := "/console/conversations/" + url.PathEscape(conv.Key())
	_, page := d.get(c, path)
	for _, want := range []string{`<option value="minh@hanoi.gov.vn">Trần Văn Minh (minh@hanoi.gov.vn)</option>`, `<option value="an@hanoi.gov.vn">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the assign list lacks %s", want)
		}
	}
	if strings.Contains(page, `<option value="lan@hanoi.gov.vn">`) {
		t.Error("Lan is offered herself as a colleague")
	}
	if res, _ := d.form(c, path+"/assign", url.Values{"csrf": {csrf}, "email": {minh}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign: %d", res.StatusCode)
	}
	if card, _, _ := d.st.Card(context.Background(), conv); card.Assignee != minh {
		t.Errorf("assigned to %q, want Minh", card.Assignee)
	}
}

// The API reads its JSON strictly: an unknown field or anything after the object is
// refused; an action without arguments may come with an empty body.
func TestAPIReadsJSONStrictly(t *testing.T) {
	d := newDesk(t, false)
	conv := d.citizenAsks()
	for body, want := range map[string]int{
		`{"text":"Chào bạn","role":"admin"}`: http.StatusBadRequest,
		`{"text":"Chào bạn"} {"text":"x"}`:   http.StatusBadRequest,
		`{"text":"Chào bạn"}garbage`:         http.StatusBadRequest,
	} {
		if a := d.raw(lan, "POST", convPath(conv, "note"), body); a.code != want || !strings.Contains(a.body, `"error"`) {
			t.Errorf("note %s: %d %s, want %d", body, a.code, a.body, want)
		}
	}
	if a := d.raw(lan, "POST", convPath(conv, "takeover"), ""); a.code != 200 {
		t.Errorf("takeover with an empty JSON body: %d %s", a.code, a.body)
	}
	if a := d.raw(lan, "POST", convPath(conv, "note"), `{"text":"Đã gọi cho phường."}`); a.code != 200 {
		t.Errorf("a good note: %d %s", a.code, a.body)
	}
}

// Every answer says its type is meant (nosniff) and keeps console URLs from leaving
// as referrers; pages also forbid other bases and form targets.
func TestSecurityHeaders(t *testing.T) {
	d := newDesk(t, false)
	c := d.browser()
	d.login(c, lan, lanPassword)
	for _, path := range []string{"/console/", "/console/api/me", "/console/static/console.css", "/console/login"} {
		res, _ := d.get(c, path)
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: nosniff %q, referrer %q", path, res.Header.Get("X-Content-Type-Options"), res.Header.Get("Referrer-Policy"))
		}
	}
	res, _ := d.get(c, "/console/")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "base-uri 'none'") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("CSP %q", csp)
	}
}

// A long conversation's page shows its latest PageLines lines and a link to the rest;
// the link shows them all.
func TestLongTranscriptPage(t *testing.T) {
	d := newDesk(t, false)
	conv := d.longConversation(1000)
	c := d.browser()
	d.login(c, lan, lanPassword)
	path := "/console/conversations/" + url.PathEscape(conv.Key())
	_, page := d.get(c, path)
	if n := strings.Count(page, `<li class="line `); n != console.PageLines {
		t.Errorf("the page shows %d lines, want %d", n, console.PageLines)
	}
	if !strings.Contains(page, `<a href="?all=1">Xem 800 tin nhắn trước đó</a>`) || !strings.Contains(page, "Tin nhắn số 999") ||
		strings.Contains(page, "Tin nhắn số 799:") {
		t.Error("the page is not the latest lines with a link to the earlier ones")
	}
	_, all := d.get(c, path+"?all=1")
	if n := strings.Count(all, `<li class="line `); n != 1000 || strings.Contains(all, `class="earlier"`) {
		t.Errorf("?all=1 shows %d lines", n)
	}
}
