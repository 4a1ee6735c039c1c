package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"
)

// An admin runs the admin pages in a real browser against `sangkien serve`: adds an
// operator and issues their API token (shown once), adds a make-up Saturday to the
// calendar and a canned answer, and finds each change in the audit trail.
func TestConsoleAdminInABrowser(t *testing.T) {
	staffBcryptCost = bcrypt.MinCost
	t.Cleanup(func() { staffBcryptCost = 12 })
	env := newTestEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addStaff(t, ctx, env, "an@hanoi.gov.vn", "Lê An", "admin", "mật khẩu của An 2026")
	addr, done := startServe(t, ctx, env)
	base := "http://" + addr

	b := consoleBrowser(t)
	logIn(t, b, base, "an@hanoi.gov.vn", "mật khẩu của An 2026")
	step(t, b, "add an operator",
		// The inbox fetches itself again on every change, so a click on its navigation
		// can meet a node just replaced: the staff page is opened by its address.
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/console/staff"]`)),
		chromedp.Navigate(base+"/console/staff"),
		chromedp.WaitVisible(chromedp.ID("add-email")),
		chromedp.SendKeys(chromedp.ID("add-email"), "hoa@hanoi.gov.vn"),
		chromedp.SendKeys(chromedp.ID("add-name"), "Phạm Thị Hoa"),
		chromedp.SetValue(chromedp.ID("add-role"), "operator"),
		chromedp.SendKeys(chromedp.ID("add-password"), "mật khẩu của Hoa 2026"),
		chromedp.Click(chromedp.CSS(`form[action="/console/staff"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok`)),
	)
	if row := text(t, b, chromedp.CSS(`table.admin tbody`)); !strings.Contains(row, "Phạm Thị Hoa") || !strings.Contains(row, "Cán bộ xử lý") {
		t.Errorf("the accounts after adding: %q", row)
	}
	step(t, b, "issue a token",
		chromedp.Click(chromedp.CSS(`form[action="/console/staff/hoa@hanoi.gov.vn/token"] button`)),
		chromedp.WaitVisible(chromedp.ID("token")),
	)
	token, err := chromedp.Run(b, chromedp.Value(chromedp.ID("token")))
	if err != nil || !strings.HasPrefix(token, "sk_") {
		t.Errorf("the token shown: %q, %v", token, err)
	}
	if warn := text(t, b, chromedp.CSS(`.token .warn`)); !strings.Contains(warn, "chỉ hiển thị một lần") {
		t.Errorf("the token's warning: %q", warn)
	}

	step(t, b, "add a make-up Saturday",
		chromedp.Click(chromedp.CSS(`nav a[href="/console/holidays"]`)),
		chromedp.WaitVisible(chromedp.ID("hol-date")),
		chromedp.SetValue(chromedp.ID("hol-date"), "2027-03-06"),
		chromedp.SetValue(chromedp.ID("hol-kind"), "work"),
		chromedp.SendKeys(chromedp.ID("hol-name"), "Làm bù thử"),
		chromedp.Click(chromedp.CSS(`form[action="/console/holidays"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.k-work time[datetime="2027-03-06"]`)),
	)

	step(t, b, "add a canned answer",
		chromedp.Click(chromedp.CSS(`nav a[href="/console/canned"]`)),
		chromedp.WaitVisible(chromedp.ID("new-id")),
		chromedp.SendKeys(chromedp.ID("new-id"), "chao-hoi"),
		chromedp.SendKeys(chromedp.ID("new-title"), "Chào hỏi"),
		chromedp.SendKeys(chromedp.ID("new-vi"), "Chào bạn {name}, cán bộ đã nhận được tin nhắn của bạn."),
		chromedp.Click(chromedp.CSS(`form[action="/console/canned"] #new-vi ~ button`)),
		chromedp.WaitVisible(chromedp.ID("c-chao-hoi")),
	)

	step(t, b, "the audit trail", chromedp.Click(chromedp.CSS(`nav a[href="/console/audit"]`)), chromedp.WaitVisible(chromedp.CSS(`table.audit`)))
	trail := text(t, b, chromedp.CSS(`table.audit tbody`))
	for _, want := range []string{"Lưu mẫu trả lời", "Sửa lịch nghỉ lễ", "Cấp mã API", "Thêm tài khoản", "hoa@hanoi.gov.vn", "Đăng nhập"} {
		if !strings.Contains(trail, want) {
			t.Errorf("the audit trail lacks %q:\n%s", want, trail)
		}
	}
	if token != "" && strings.Contains(trail, token) {
		t.Error("the audit trail shows the token")
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
