package console_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/clientaddr"
	"github.com/sangkien/sangkien/console"
)

// A refused login is audited with the account's email when the email names one, masked
// when it does not, and not at all when it cannot be an address (kilobytes of text, a
// password typed into the email field): each gets the answer of a wrong password.
func TestLoginAuditKeepsNoTypedText(t *testing.T) {
	d := newDesk(t, false)
	c := d.browser()
	long := strings.Repeat("a", 300) + "@hanoi.gov.vn"
	for _, email := range []string{long, lanPassword, "ai@hanoi.gov.vn", lan} {
		res, body := d.form(c, "/console/login", url.Values{"email": {email}, "password": {"sai mật khẩu rồi"}})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Email hoặc mật khẩu không đúng.") {
			t.Errorf("login as %.20q: %d", email, res.StatusCode)
		}
	}
	got := d.auditLines(bot.AuditQuery{Action: bot.AuditLoginFailed})
	want := []string{lan + " login_failed ", bot.MaskID("ai@hanoi.gov.vn") + " login_failed "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Once the limit holds, a flood of logins from one address leaves one audit entry.
func TestLoginLimitAuditedOnce(t *testing.T) {
	d := newDesk(t, false)
	c := d.browser()
	for range 3 {
		d.form(c, "/console/login", url.Values{"email": {lan}, "password": {"không phải mật khẩu"}})
	}
	for range 20 {
		res, _ := d.form(c, "/console/login", url.Values{"email": {lan}, "password": {lanPassword}})
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("over the limit: %d", res.StatusCode)
		}
	}
	got := d.auditLines(bot.AuditQuery{Action: bot.AuditLoginFailed})
	want := []string{lan + " login_failed limit reached", lan + " login_failed ", lan + " login_failed ", lan + " login_failed "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Parallel logins with a wrong password: exactly the limit reach bcrypt, for a known
// account and an unknown email alike.
func TestLoginLimitHoldsInParallel(t *testing.T) {
	d := newDesk(t, false)
	for _, email := range []string{lan, "ai@hanoi.gov.vn"} {
		var wrong, limited atomic.Int64
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				res, _ := d.form(d.browser(), "/console/login", url.Values{"email": {email}, "password": {"không phải mật khẩu"}})
				switch res.StatusCode {
				case http.StatusUnauthorized:
					wrong.Add(1)
				case http.StatusTooManyRequests:
					limited.Add(1)
				default:
					t.Errorf("status %d", res.StatusCode)
				}
			})
		}
		wg.Wait()
		if wrong.Load() != 3 || limited.Load() != 27 {
			t.Errorf("%s: %d wrong, %d limited; want 3 and 27", email, wrong.Load(), limited.Load())
		}
	}
}

// Staff behind one office address: their own logins do not use up the address's
// limit (AddressFailures 5 in accounts), its failures still do.
func TestOfficeAddressNotLockedOutByLogins(t *testing.T) {
	ctx := context.Background()
	a := accounts(t)
	if err := a.Add(ctx, lan, "Nguyễn Thị Lan", bot.RoleOperator, lanPassword); err != nil {
		t.Fatal(err)
	}
	const office = "203.0.113.20:1"
	for i := range 12 {
		if _, err := a.Authenticate(ctx, lan, lanPassword, office); err != nil {
			t.Fatalf("login %d from the office: %v", i+1, err)
		}
	}
	for _, email := range []string{"a@hanoi.gov.vn", "b@hanoi.gov.vn", "c@hanoi.gov.vn", "d@hanoi.gov.vn", "e@hanoi.gov.vn"} {
		if _, err := a.Authenticate(ctx, email, "không phải mật khẩu", office); !errors.Is(err, bot.ErrBadCredentials) {
			t.Fatalf("%s: %v", email, err)
		}
	}
	if _, err := a.Authenticate(ctx, lan, lanPassword, office); !errors.Is(err, bot.ErrTooManyAttempts) {
		t.Errorf("after five failures from the office: %v; want ErrTooManyAttempts", err)
	}
}

// resetDuring is a staff store whose Credentials is followed, once, by an admin's new
// password for the account: the interleaving of a login and a reset.
type resetDuring struct {
	console.StaffStore
	once  sync.Once
	reset func()
}

func (s *resetDuring) Credentials(ctx context.Context, email string) (bot.StaffMember, []byte, error) {
	m, hash, err := s.StaffStore.Credentials(ctx, email)
	s.once.Do(s.reset)
	return m, hash, err
}

// A login whose password is reset between the read of its hash and its session opens
// no session: the old password no longer holds.
func TestLoginDuringPasswordReset(t *testing.T) {
	const newPassword = "mật khẩu mới của Lan 2027"
	var d *desk
	d = newDesk(t, false, func(cfg *console.Config) {
		acc := cfg.Accounts
		cfg.Accounts.Store = &resetDuring{StaffStore: acc.Store, reset: func() {
			d.advance(1)
			if err := acc.SetPassword(context.Background(), lan, newPassword); err != nil {
				t.Error(err)
			}
			d.advance(1)
		}}
	})
	c := d.browser()
	res, body := d.form(c, "/console/login", url.Values{"email": {lan}, "password": {lanPassword}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Email hoặc mật khẩu không đúng.") {
		t.Fatalf("login during the reset: %d", res.StatusCode)
	}
	for _, ck := range res.Cookies() {
		if ck.Name == console.SessionCookie && ck.Value != "" {
			t.Errorf("a session cookie was set")
		}
	}
	if got := d.auditLines(bot.AuditQuery{Action: bot.AuditLogin}); len(got) != 0 {
		t.Errorf("audited logins: %v", got)
	}
	d.login(c, lan, newPassword)
}

// Page forms and API calls are refused before their body is read past 64 KiB, and
// multipart bodies are refused whatever they hold.
func TestFormBodyLimits(t *testing.T) {
	d := newDesk(t, false)
	conv := d.citizenAsks()
	c := d.browser()
	csrf := d.login(c, lan, lanPassword)
	takeover := "/console/conversations/" + url.PathEscape(conv.Key()) + "/takeover"

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("csrf", csrf)
	_ = mw.Close()
	post := func(path, contentType string, body []byte, header ...string) *http.Response {
		req, _ := http.NewRequest("POST", d.srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := post(takeover, mw.FormDataContentType(), mp.Bytes()); res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("a multipart form with its CSRF token: %d", res.StatusCode)
	}
	big := url.Values{"csrf": {csrf}, "pad": {strings.Repeat("x", 100<<10)}}.Encode()
	if res := post(takeover, "application/x-www-form-urlencoded", []byte(big)); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 100 KiB form: %d", res.StatusCode)
	}
	if res := post("/console/login", mw.FormDataContentType(), mp.Bytes()); res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("a multipart login: %d", res.StatusCode)
	}
	if got := d.auditLines(bot.AuditQuery{Action: bot.AuditTakeover}); len(got) != 0 {
		t.Errorf("a refused form took the conversation over: %v", got)
	}
	res := post(convPath(conv, "note"), mw.FormDataContentType(), mp.Bytes(), console.CSRFHeader, csrf)
	if res.StatusCode != http.StatusUnsupportedMediaType || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("a multipart API call: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// The limits leave ordinary forms alone.
	if res, _ := d.form(c, takeover, url.Values{"csrf": {csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the takeover form: %d", res.StatusCode)
	}
}

// A proxy's Basic credentials do not replace the session cookie; only a bearer token is
// token auth.
func TestBasicAuthorizationKeepsTheCookie(t *testing.T) {
	d := newDesk(t, false)
	c := d.browser()
	d.login(c, lan, lanPassword)
	for _, path := range []string{"/console/", "/console/api/me"} {
		req, _ := http.NewRequest("GET", d.srv.URL+path, nil)
		req.Header.Set("Authorization", "Basic cHJveHk6c2VjcmV0")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s with the cookie and a Basic header: %d", path, res.StatusCode)
		}
	}
	if code := d.api(lan, "GET", "/console/api/me", nil, nil); code != http.StatusOK {
		t.Errorf("a bearer token: %d", code)
	}
	req, _ := http.NewRequest("GET", d.srv.URL+"/console/api/me", nil)
	req.Header.Set("Authorization", "bearer "+d.tokens[lan])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("a bearer token, scheme in lower case: %d", res.StatusCode)
	}
}

// Behind a trusted proxy (TRUSTED_PROXIES), failed logins count against the address the
// proxy forwarded: one client's guesses lock that client out, not every colleague
// behind the same proxy. From anyone else, X-Forwarded-For is ignored.
func TestLoginLimitBehindTrustedProxy(t *testing.T) {
	proxies, err := clientaddr.Parse("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	d := newDesk(t, false, func(cfg *console.Config) { cfg.Proxies = proxies })
	guess := func(from, email, password string) int {
		res, _ := d.form(d.browser(), "/console/login", url.Values{"email": {email}, "password": {password}}, "X-Forwarded-For", from)
		return res.StatusCode
	}
	// The desk allows an address 50 failures (AddressFailures), each on an account of
	// its own here, within the per-account limit.
	for i := range 50 {
		if code := guess("203.0.113.7", fmt.Sprintf("g%d@hanoi.gov.vn", i), "không phải mật khẩu"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d from 203.0.113.7: %d", i+1, code)
		}
	}
	if code := guess("203.0.113.7", lan, lanPassword); code != http.StatusTooManyRequests {
		t.Errorf("the guessing client after 50 failures: %d, want 429", code)
	}
	if code := guess("203.0.113.8", lan, lanPassword); code != http.StatusSeeOther {
		t.Errorf("a colleague behind the same proxy: %d, want a session (303)", code)
	}
	if got := d.auditLines(bot.AuditQuery{Action: bot.AuditLogin}); len(got) != 1 {
		t.Errorf("audited logins: %v", got)
	}

	// Not trusted: the header is anyone's to write, and the peer's address counts.
	d = newDesk(t, false)
	for i := range 50 {
		guess(fmt.Sprintf("198.51.100.%d", i), fmt.Sprintf("g%d@hanoi.gov.vn", i), "không phải mật khẩu")
	}
	if code := guess("198.51.100.99", lan, lanPassword); code != http.StatusTooManyRequests {
		t.Errorf("an untrusted peer naming a new address: %d, want 429", code)
	}
}
