package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"image"
	"image/color"
	pngenc "image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/console/consoletest"
)

// webchatScreen, when set, is where TestWebchatInABrowser writes the README's picture
// of the widget on a phone.
var webchatScreen = flag.String("webchat-screen", "", "write the web chat's screenshot to this file")

// A citizen proposes an initiative through the widget embedded in another site's page
// (its origin in WEBCHAT_ORIGINS), in Chromium, against `sangkien serve`: buttons for the
// choices, typed answers, the browser's location; the submission reaches the intake
// file once.
func TestWebchatInABrowser(t *testing.T) {
	portal := httptest.NewServer(nil) // its address first: the page names the gateway's
	defer portal.Close()
	env := newTestEnv(t).set("WEBCHAT_ORIGINS", portal.URL,
		"PUBLIC_BASE_URL", "http://127.0.0.1") // the media proxy's: the console's links are relative
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	staffBcryptCost = bcrypt.MinCost
	t.Cleanup(func() { staffBcryptCost = 12 })
	addStaff(t, ctx, env, "lan@hanoi.gov.vn", "Nguyễn Thị Lan", "operator", "mật khẩu của Lan 2026")
	addr, done := startServe(t, ctx, env)
	portal.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Cổng thông tin</title></head><body><h1>Cổng thông tin điện tử Hà Nội</h1>
<script src="http://%s/webchat/widget.js" defer></script></body></html>`, addr)
	})

	b := consoletest.Browser(t)
	lat, lon, acc := 21.028511, 105.854167, 10.0
	step(t, b, "a phone's screen, and its location granted", chromedp.EmulateViewport(390, 780),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, chromedp.FromContext(ctx).Browser, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc})
			return err
		}),
		chromedp.Navigate(portal.URL))
	w := widget{t: t, b: b}
	w.run("open the chat", `sk().querySelector(".btn").click()`)
	w.waitBot("Xin chào")
	w.press("Gửi sáng kiến", "Bạn có đồng ý không?")
	w.press("Đồng ý", "chương trình nào?")
	w.say("1", "lĩnh vực nào")
	w.say("1", "đặt tiêu đề")
	w.say("Ứng dụng báo hỏng đèn đường", "mô tả sáng kiến")
	w.say("Hiện nay người dân muốn báo đèn đường hỏng thì phải gọi điện cho phường, nhiều khi không ai nghe máy.", "Xong")
	w.press("Xong", "lợi ích")
	w.say("Đèn được sửa nhanh hơn, đường phố an toàn hơn vào ban đêm.", "địa điểm nào")
	w.press("Gửi vị trí hiện tại", "ảnh hoặc tài liệu")
	w.upload("den-hong.png", pngOf(t), "1/5")
	w.press("Xong", "họ và tên")
	w.say("Nguyễn Thị Lan", "số điện thoại")
	w.say("0912 345 678", "email")
	w.press("Bỏ qua", "kiểm tra lại sáng kiến")
	if *webchatScreen != "" {
		step(t, b, "screenshot", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(*webchatScreen), 0o755); err != nil {
				return err
			}
			return os.WriteFile(*webchatScreen, png, 0o644)
		}))
	}
	w.press("Gửi sáng kiến", "Cảm ơn bạn")

	waitForFile(t, env["INTAKE_FILE"], 1)
	recs := readSubmissions(t, env["INTAKE_FILE"])
	if len(recs) != 1 || recs[0].Conversation.Channel != bot.Web || recs[0].Location == nil || recs[0].Location.Lat != lat ||
		len(recs[0].Attachments) != 1 || recs[0].Attachments[0].Kind != bot.Photo || recs[0].Attachments[0].Name != "den-hong.png" {
		t.Fatalf("the intake got %+v, want one web chat submission at the browser's location, with its photo", recs)
	}

	// The citizen asks for a person; an operator answers from the console, in a tab of
	// their own, and the citizen's panel shows what they write.
	w.say("gặp cán bộ", "")
	conv, err := chromedp.Run(w.b, chromedp.Evaluate[string](`JSON.parse(localStorage.getItem("sk-webchat:http://`+addr+`")).conversation`))
	if err != nil {
		t.Fatal(err)
	}
	staff, closeTab := chromedp.NewContext(b)
	defer closeTab()
	logIn(t, staff, "http://"+addr, "lan@hanoi.gov.vn", "mật khẩu của Lan 2026")
	row := chromedp.CSS(`#inbox tr.s-waiting a[href="/console/conversations/web:` + conv + `"]`)
	step(t, staff, "the web chat citizen appears, waiting", chromedp.WaitVisible(row))
	operate(t, staff, row, catalog(t, "vi"), w.said)
	// The citizen's photo is shown through the gateway's media proxy, from Redis, once
	// the operator scrolls to it (the image loads lazily; the proposal's transcript is long).
	if _, err := chromedp.Run(staff, chromedp.Poll[bool](`(() => { const i = document.querySelector("#transcript .file img");
		if (i) i.scrollIntoView(); return !!i && i.complete && i.naturalWidth === 4; })()`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the citizen's photo is not shown in the console: %v", err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after cancel: %v", err)
	}
}

// widget drives the widget in its shadow root.
type widget struct {
	t *testing.T
	b context.Context
}

const widgetJS = `if (!document.querySelector("#sk-webchat")) throw new Error("no widget");
const sk = () => document.querySelector("#sk-webchat").shadowRoot;
const bots = () => [...sk().querySelectorAll(".msg.bot")];`

func (w widget) run(what, js string) {
	w.t.Helper()
	if _, err := chromedp.Run(w.b, chromedp.Evaluate[bool](`(() => { `+widgetJS+` `+js+`; return true; })()`)); err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
}

// waitBot waits until the bot said something holding part.
func (w widget) waitBot(part string) {
	w.t.Helper()
	w.waitAfter(0, part)
}

// say types text and sends it, then waits for the bot's answer holding next.
func (w widget) say(text, next string) {
	w.t.Helper()
	n := w.count()
	w.run("type "+text, `const f = sk().querySelector("form"); f.querySelector("textarea").value = `+strconv.Quote(text)+`; f.requestSubmit()`)
	w.waitAfter(n, next)
}

// press clicks the last choice whose label holds label, then waits for next.
func (w widget) press(label, next string) {
	w.t.Helper()
	n := w.count()
	w.run("press "+label, `const b = [...sk().querySelectorAll(".choices button:not(:disabled)")].filter(b => b.textContent.includes(`+strconv.Quote(label)+`)).pop();
		if (!b) throw new Error("no choice "+`+strconv.Quote(label)+`); b.click()`)
	w.waitAfter(n, next)
}

func (w widget) count() int {
	w.t.Helper()
	n, err := chromedp.Run(w.b, chromedp.Evaluate[int](`(() => { `+widgetJS+` return bots().length; })()`))
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// waitAfter waits for a bot message after the first n that holds part (or whose choices do).
func (w widget) waitAfter(n int, part string) {
	w.t.Helper()
	q := strconv.Quote(part)
	_, err := chromedp.Run(w.b, chromedp.Poll[bool](`(() => { `+widgetJS+`
		const all = bots(); if (all.length <= `+strconv.Itoa(n)+`) return false;
		const log = sk().querySelector(".log"), tail = log.lastElementChild;
		return all.slice(`+strconv.Itoa(n)+`).some(m => m.textContent.includes(`+q+`)) || (tail.className === "choices" && tail.textContent.includes(`+q+`));
	})()`, chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		log, _ := chromedp.Run(w.b, chromedp.Evaluate[string](`(() => { `+widgetJS+` return sk().querySelector(".log").innerText; })()`))
		w.t.Fatalf("the bot never said %q: %v\nthe panel shows:\n%s", part, err, log)
	}
}

// said is every message of the bot the panel shows, oldest first.
func (w widget) said() []string {
	w.t.Helper()
	s, err := chromedp.Run(w.b, chromedp.Evaluate[[]string](`(() => { `+widgetJS+` return bots().map(m => m.textContent); })()`))
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// upload picks a file in the panel's file input, as the citizen's file chooser would,
// and waits for the bot's answer holding next.
func (w widget) upload(name string, data []byte, next string) {
	w.t.Helper()
	n := w.count()
	w.run("upload "+name, `const bin = atob(`+strconv.Quote(base64.StdEncoding.EncodeToString(data))+`);
		const dt = new DataTransfer();
		dt.items.add(new File([Uint8Array.from(bin, c => c.charCodeAt(0))], `+strconv.Quote(name)+`, {type: "image/png"}));
		const input = sk().querySelector("input[type=file]"); input.files = dt.files; input.dispatchEvent(new Event("change"))`)
	w.waitAfter(n, next)
}

// pngOf is a small real PNG.
func pngOf(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := pngenc.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The gateway's own page, GET /chat, in English: the panel fills the page, the bot
// greets in English and a link offers Vietnamese; the API answers the page's origin
// without any WEBCHAT_ORIGINS.
func TestWebchatPageInABrowser(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done := startServe(t, ctx, newTestEnv(t))
	b := consoletest.Browser(t)
	step(t, b, "open /chat in English", chromedp.Navigate("http://"+addr+"/chat?lang=en"))
	w := widget{t: t, b: b}
	w.waitBot("Hello")
	w.press("Send feedback", "")
	link, err := chromedp.Run(b, chromedp.Evaluate[string](`(() => { `+widgetJS+` return sk().querySelector("header a").textContent; })()`))
	if err != nil || link != "Tiếng Việt" {
		t.Fatalf("the language link says %q (%v)", link, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after cancel: %v", err)
	}
}
