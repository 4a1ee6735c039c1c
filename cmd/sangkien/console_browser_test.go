package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	pngenc "image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien/console/consoletest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
	"github.com/sangkien/sangkien/locales"
)

// An operator answers a Telegram citizen and a Zalo citizen in a real browser against
// `sangkien serve` and the fake Bot API and OA API: the citizen asks for a person; the
// conversation appears in the inbox without a reload, waiting, with its clock; the
// operator takes it over, replies (the citizen's channel receives it), notes (not
// sent), hands back (the bot resumes) and resolves.
func TestConsoleInABrowser(t *testing.T) {
	staffBcryptCost = bcrypt.MinCost
	t.Cleanup(func() { staffBcryptCost = 12 })
	tg := telegramtest.NewServer(t)
	zl := zalotest.NewServer(t)
	env := newTestEnv(t).set(telegramVars(tg)...).set(zaloVars(zl)...).set(
		"PUBLIC_BASE_URL", "http://127.0.0.1", // the media proxy's: the console's links are relative
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addStaff(t, ctx, env, "lan@hanoi.gov.vn", "Nguyễn Thị Lan", "operator", "mật khẩu của Lan 2026")
	addr, done := startServe(t, ctx, env)
	base := "http://" + addr

	b := consoleBrowser(t)
	logIn(t, b, base, "lan@hanoi.gov.vn", "mật khẩu của Lan 2026")
	// The page listens for changes before the citizens write.
	step(t, b, "the inbox goes live", chromedp.WaitReady(chromedp.CSS(`body[data-live="on"]`)))

	id := 700
	citizen := tgCitizen{chat: 555000111, lang: "vi", nextID: &id}
	postUpdate(t, tg, addr, citizen.text("/start"))
	postUpdate(t, tg, addr, citizen.text("gặp cán bộ"))
	var png bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	if err := pngenc.Encode(&png, img); err != nil {
		t.Fatal(err)
	}
	tg.AddFile("photo-ho-guom", "photos/file_1.png", png.Bytes())
	postUpdate(t, tg, addr, citizen.message(map[string]any{"photo": []map[string]any{
		{"file_id": "photo-ho-guom", "file_unique_id": "AQADho", "width": 4, "height": 3, "file_size": png.Len()}}}))
	tgRow := chromedp.CSS(`#inbox tr.s-waiting a[href="/console/conversations/tg:555000111"]`)
	step(t, b, "the Telegram citizen appears, waiting", chromedp.WaitVisible(tgRow))
	vi, en := catalog(t, "vi"), catalog(t, "en")
	row := text(t, b, chromedp.CSS(`#inbox tr.s-waiting`))
	if !strings.Contains(row, vi.T("console.status.waiting")) || !strings.Contains(row, vi.T("console.clock.on_time")) || !strings.Contains(row, "gặp cán bộ") {
		t.Errorf("the waiting row says %q", row)
	}
	operate(t, b, tgRow, vi, func() []string { return sentTo(tg, citizen.chat) })
	// The citizen's photo is shown through the gateway's media proxy.
	if _, err := chromedp.Run(b, chromedp.Poll[bool](`(() => { const i = document.querySelector("#transcript .file img");
		return !!i && i.complete && i.naturalWidth === 4; })()`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the citizen's photo is not shown: %v", err)
	}
	// The citizen has blocked the bot since: what staff send is shown undelivered, and why.
	tg.Fail("sendMessage", 403, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`)
	step(t, b, "take over again", chromedp.Click(chromedp.CSS(`form[action$="/takeover"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#transcript .dlv.d-failed`)))
	if s := text(t, b, chromedp.CSS(`#transcript .dlv.d-failed`)); !strings.Contains(s, vi.T("console.delivery.failed")+": "+vi.T("console.delivery.gone")) {
		t.Errorf("the undelivered notice says %q", s)
	}

	n := 0
	zc := zlCitizen{user: "7392845012349876001", n: &n}
	for _, body := range [][]byte{zc.follow(), zc.text("gap can bo")} {
		postZalo(t, addr, body, zalotest.Sign(zalotest.AppID, body, zalotest.OASecret))
	}
	zlRow := chromedp.CSS(`#inbox tr.s-waiting a[href="/console/conversations/zl:7392845012349876001"]`)
	step(t, b, "back to the inbox", chromedp.Navigate(base+"/console/"), chromedp.WaitReady(chromedp.CSS(`body[data-live="on"]`)))
	step(t, b, "the Zalo citizen appears, waiting", chromedp.WaitVisible(zlRow))
	operate(t, b, zlRow, vi, func() []string { return zl.Sent(zc.user) })

	// In English: a member of staff who reads English answers a citizen who writes it.
	enCitizen := tgCitizen{chat: 555000222, lang: "en", nextID: &id}
	step(t, b, "the console in English", chromedp.Navigate(base+"/console/?lang=en"), chromedp.WaitReady(chromedp.CSS(`body[data-live="on"]`)))
	if h := text(t, b, chromedp.CSS("h1")); h != en.T("console.inbox") {
		t.Errorf("the English inbox is headed %q", h)
	}
	postUpdate(t, tg, addr, enCitizen.text("/start"))
	postUpdate(t, tg, addr, enCitizen.text("talk to a person"))
	enRow := chromedp.CSS(`#inbox tr.s-waiting a[href="/console/conversations/tg:555000222"]`)
	step(t, b, "the English citizen appears, waiting", chromedp.WaitVisible(enRow))
	if row := text(t, b, chromedp.CSS(`#inbox tr.s-waiting`)); !strings.Contains(row, en.T("console.status.waiting")) {
		t.Errorf("the English waiting row says %q", row)
	}
	operate(t, b, enRow, en, func() []string { return sentTo(tg, enCitizen.chat) })

	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// operate opens the conversation row links to and runs an operator's whole visit;
// sent lists what the citizen's channel received.
func operate(t *testing.T, b context.Context, row chromedp.CSS, l *locales.Localizer, sent func() []string) {
	t.Helper()
	step(t, b, "open the conversation", chromedp.Click(row), chromedp.WaitVisible(chromedp.ID("transcript")))
	step(t, b, "take over", chromedp.Click(chromedp.CSS(`form[action$="/takeover"] button`)), chromedp.WaitVisible(chromedp.CSS(`.flash.ok`)))
	waitChannel(t, sent, l.T("human.joined", map[string]any{"Name": "Nguyễn Thị Lan"}))
	reply := "Chào bạn, mình là Lan. Bạn cần hỏi gì ạ?"
	step(t, b, "reply",
		chromedp.SendKeys(chromedp.ID("reply"), reply),
		chromedp.Click(chromedp.CSS(`form[action$="/reply"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#transcript .k-staff_reply`)),
	)
	waitChannel(t, sent, reply)
	step(t, b, "the reply is shown sent, without a reload", chromedp.WaitVisible(chromedp.CSS(`#transcript .k-staff_reply .dlv.d-sent`)))
	note := "Người dân hỏi về hạn nộp."
	step(t, b, "note",
		chromedp.SendKeys(chromedp.ID("note"), note),
		chromedp.Click(chromedp.CSS(`form[action$="/note"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#transcript .k-staff_note`)),
	)
	// The conversation's live updates replace its forms as they come: these clicks find
	// and press their button in one step (consoletest.Click).
	step(t, b, "hand back", consoletest.Click(`form[action$="/handback"] button`), chromedp.WaitVisible(chromedp.CSS(`form[action$="/takeover"]`)))
	waitChannel(t, sent, l.T("human.handed_back"))
	step(t, b, "resolve", consoletest.Click(`#resolve button`), chromedp.WaitNotPresent(chromedp.ID("resolve")))
	if state := text(t, b, chromedp.CSS("#state")); !strings.Contains(state, l.T("console.status.resolved")) {
		t.Errorf("after resolving, the page says %q", state)
	}
	if slices.ContainsFunc(sent(), func(s string) bool { return strings.Contains(s, note) }) {
		t.Errorf("the internal note reached the citizen: %q", sent())
	}
}

// addStaff adds an account with `sangkien staff add`, its password from a file.
func addStaff(t *testing.T, ctx context.Context, env testEnv, email, name, role, password string) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	if err := run(ctx, []string{"staff", "add", "--email", email, "--name", name, "--role", role, "--password-file", pw},
		env.get, strings.NewReader(""), &strings.Builder{}, &stderr); err != nil {
		t.Fatalf("staff add: %v %s", err, stderr.String())
	}
}

// logIn logs the browser in at base's console and waits for the inbox.
func logIn(t *testing.T, b context.Context, base, email, password string) {
	t.Helper()
	step(t, b, "log in",
		chromedp.Navigate(base+"/console/login"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("counts")),
	)
}

// catalog is the citizens' and staff's strings in lang.
func catalog(t *testing.T, lang string) *locales.Localizer {
	t.Helper()
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	return cat.For(lang)
}

func consoleBrowser(t *testing.T) context.Context {
	t.Helper()
	return consoletest.Browser(t)
}

func step(t *testing.T, b context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func text(t *testing.T, b context.Context, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(b, consoletest.Text(string(sel)))
	if err != nil {
		t.Fatalf("text: %v", err)
	}
	return s
}

// waitChannel waits until the citizen's channel received a message containing part.
func waitChannel(t *testing.T, sent func() []string, part string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if slices.ContainsFunc(sent(), func(s string) bool { return strings.Contains(s, part) }) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the channel never received %q; it got %s", part, strconv.Quote(strings.Join(sent(), " | ")))
}
