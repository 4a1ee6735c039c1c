package console_test

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/console"
	"github.com/sangkien/sangkien/console/consoletest"
)

// screens is where TestScreens writes the documentation's screenshots (make screens);
// without it they go to a temporary directory and are only checked.
var screens = flag.String("screens", "", "write the console's screenshots to this directory")

// The documentation's screenshots, of a console with a morning's work in it: the
// inbox (late, due soon and on time), a conversation with the citizen's draft and
// photo, a staff reply delivered and a note. Each is checked to be a whole page.
func TestScreens(t *testing.T) {
	dir := *screens
	if dir == "" {
		dir = t.TempDir()
	}
	d := newDesk(t, false, func(c *console.Config) {
		c.MediaLink = func(_ bot.Channel, a bot.Attachment) (string, error) { return "/media/" + a.Ref, nil }
	})
	// The gateway's media proxy, as far as the page can tell: the citizen's photo.
	photo := photoPNG(t)
	site := http.NewServeMux()
	site.HandleFunc("GET /media/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(photo)
	})
	site.Handle("/console/", d.console)
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close) // after the browser's, which closes the pages' event streams
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d.deliver(ctx)
	tuesday := d.now // 09:00, Tuesday 1 December 2026
	at := func(day, hour, minute int) {
		d.mu.Lock()
		d.now = time.Date(2026, 11, day, hour, minute, 0, 0, bot.HoChiMinh())
		if day > 30 {
			d.now = time.Date(2026, 12, day-30, hour, minute, 0, 0, bot.HoChiMinh())
		}
		d.mu.Unlock()
	}
	// Friday: a citizen drafts an initiative, then asks for a person (late by Tuesday).
	at(27, 10, 5)
	hung := bot.ConversationRef{Channel: bot.Telegram, ID: "5520418833"}
	d.chat(hung, "/start", "1", "đồng ý", "2", "1", "Ứng dụng báo hỏng đèn đường theo thời gian thực",
		"Người dân chụp ảnh đèn hỏng, gửi vị trí; phường nhận việc và báo lại khi đã sửa xong.", "[done]",
		"Đèn được sửa nhanh hơn, đường phố an toàn hơn vào ban đêm.", "[location]", "[photo]", "[done]", "Trần Văn Hùng", "0912 345 678", "bỏ qua")
	at(27, 10, 12)
	d.chat(hung, "gặp cán bộ", "Cho tôi hỏi sáng kiến này có cần bản vẽ kỹ thuật không ạ?")
	// Monday afternoon: a Zalo citizen the bot did not understand three times (due soon).
	at(30, 13, 20)
	d.chat(bot.ConversationRef{Channel: bot.Zalo, ID: "7392845012349876001"}, "/start", "1", "alo", "cho hỏi chút", "hạn nộp là bao giờ vậy")
	// Monday: Lan answered one; Minh holds another.
	at(30, 15, 0)
	mai := bot.ConversationRef{Channel: bot.Telegram, ID: "6100933127"}
	d.chat(mai, "/start", "gặp cán bộ", "Tôi gửi góp ý về vỉa hè phố Huế hôm qua, đã có ai xem chưa?")
	at(30, 15, 20)
	d.act(lan, mai, "takeover", "")
	d.act(lan, mai, "reply", "Chào bạn, góp ý của bạn đã được chuyển cho UBND phường Phố Huế. Phường sẽ trả lời trong tuần này.")
	d.act(lan, mai, "note", "Đã gọi điện cho phường, chị Hằng nhận xử lý.")
	at(30, 16, 40)
	d.chat(bot.ConversationRef{Channel: bot.Telegram, ID: "7730051264"}, "/start", "gặp cán bộ", "Mình muốn đăng ký tham gia chương trình Đô thị thông minh")
	d.act(minh, bot.ConversationRef{Channel: bot.Telegram, ID: "7730051264"}, "takeover", "")
	// This morning: a citizen on time, and one already resolved.
	at(31, 8, 40)
	d.chat(bot.ConversationRef{Channel: bot.Zalo, ID: "7392845012340000042"}, "gap can bo", "Em muốn hỏi về giải thưởng của cuộc thi năm nay")
	at(31, 8, 50)
	done := bot.ConversationRef{Channel: bot.Telegram, ID: "6402217785"}
	d.chat(done, "/start", "gặp cán bộ", "Làm sao để sửa số điện thoại trong hồ sơ đã gửi?")
	d.act(lan, done, "takeover", "")
	d.act(lan, done, "reply", "Bạn gõ \"Hồ sơ của tôi\", chọn hồ sơ rồi gửi số mới cho mình nhé.")
	d.act(lan, done, "resolve", "")
	d.mu.Lock()
	d.now = tuesday.Add(2*time.Hour + 30*time.Minute) // 11:30
	d.mu.Unlock()
	d.waitDelivered(mai, done)

	b := consoletest.Browser(t)
	shots := []struct{ name, path, ready string }{
		{"inbox", "/console/", `#inbox tr.s-waiting`},
		{"conversation", "/console/conversations/" + hung.Key(), `#transcript .file img`},
		{"conversation-answered", "/console/conversations/" + mai.Key(), `#transcript .dlv.d-sent`},
	}
	if err := chromedp.Do(b,
		chromedp.Navigate(srv.URL+"/console/login"),
		chromedp.SendKeys(chromedp.ID("email"), lan),
		chromedp.SendKeys(chromedp.ID("password"), lanPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("counts")),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	for _, s := range shots {
		path := filepath.Join(dir, s.name+".png")
		if err := chromedp.Do(b, chromedp.Navigate(srv.URL+s.path), chromedp.WaitVisible(chromedp.CSS(s.ready)),
			chromedp.WaitReady(chromedp.CSS(`body[data-live="on"]`)), consoletest.Screenshot(path)); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		checkScreenshot(t, path)
		if s.name == "conversation" {
			draft, err := chromedp.Run(b, consoletest.Text(`section.draft`))
			if err != nil || !strings.Contains(draft, "Chuyển đổi số phường, xã") || !strings.Contains(draft, "Dịch vụ công trực tuyến") ||
				!strings.Contains(draft, "Trần Văn Hùng") {
				t.Errorf("the draft says %q (%v), want the program and field by name and the contact", draft, err)
			}
		}
	}
}

// checkScreenshot fails unless path is a PNG as wide as the browser's window and at
// least as tall.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := png.DecodeConfig(f)
	if err != nil || c.Width != consoletest.WindowWidth || c.Height < consoletest.WindowHeight {
		t.Errorf("%s: %dx%d, %v; want %d wide, %d or more tall", path, c.Width, c.Height, err, consoletest.WindowWidth, consoletest.WindowHeight)
	}
}

// chat is the citizen writing each text in turn; "[x]" presses button x, "[photo]"
// sends a photo.
func (d *desk) chat(conv bot.ConversationRef, texts ...string) {
	d.t.Helper()
	for _, text := range texts {
		d.citizen++
		ev := bot.Event{ID: conv.ID + "-w" + time.Duration(d.citizen).String(), Conversation: conv, Kind: bot.EventText, Text: text, Lang: "vi"}
		switch {
		case text == "[location]":
			ev.Kind, ev.Text = bot.EventLocation, ""
			ev.Location = &bot.Location{Lat: 21.0368, Lon: 105.8342, Label: "Phố Đội Cấn, Ba Đình"}
		case text == "[photo]":
			ev.Kind, ev.Text = bot.EventAttachments, ""
			ev.Attachments = []bot.Attachment{{Kind: bot.Photo, Ref: "AgACAgUAAxkBAAIBQ2", MIME: "image/jpeg", Size: 48213}}
		case len(text) > 2 && text[0] == '[':
			ev.Kind, ev.Text, ev.Payload = bot.EventButton, "", text[1:len(text)-1]
		case text[0] == '/':
			ev.Kind, ev.Text, ev.Command = bot.EventCommand, "", text[1:]
		}
		if _, err := d.engine.Handle(context.Background(), ev); err != nil {
			d.t.Fatalf("%s %q: %v", conv.Key(), text, err)
		}
	}
}

// act is a console action by email through the API.
func (d *desk) act(email string, conv bot.ConversationRef, action, text string) {
	d.t.Helper()
	var body any
	if text != "" {
		body = map[string]string{"text": text}
	}
	if code := d.api(email, "POST", convPath(conv, action), body, nil); code != 200 {
		d.t.Fatalf("%s %s: %d", action, conv.Key(), code)
	}
}

// deliver sends Telegram's and Zalo's replies as a channel that takes everything.
func (d *desk) deliver(ctx context.Context) {
	for _, ch := range []bot.Channel{bot.Telegram, bot.Zalo} {
		q := d.st.Delivery()
		disp, err := bot.NewDispatcher(bot.DispatcherConfig{Channel: ch, Queue: q.Sender(ch, "screens", redisstore.SenderOptions{}),
			Limiter: q, Sender: takeAll{}})
		if err != nil {
			d.t.Fatal(err)
		}
		go func() { _ = disp.Run(ctx) }()
	}
}

type takeAll struct{}

func (takeAll) Send(context.Context, bot.Outbound) error { return nil }

// waitDelivered waits until every tracked reply of the conversations was sent.
func (d *desk) waitDelivered(convs ...bot.ConversationRef) {
	d.t.Helper()
	for _, conv := range convs {
		for tries := 0; ; tries++ {
			st, err := d.st.Deliveries(context.Background(), conv)
			if err == nil && len(st) >= 2 {
				break
			}
			if tries > 500 {
				d.t.Fatalf("%s: replies not delivered: %+v %v", conv.Key(), st, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// photoPNG is a citizen's photo: a small picture of a street at night.
func photoPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 240, 160))
	for y := range 160 {
		for x := range 240 {
			c := color.RGBA{R: uint8(20 + y/4), G: uint8(24 + y/3), B: uint8(60 + y/2), A: 255}
			if y > 110 {
				c = color.RGBA{R: 70, G: 70, B: 76, A: 255}
			}
			if x >= 150 && x <= 154 && y > 30 && y <= 110 {
				c = color.RGBA{R: 40, G: 40, B: 44, A: 255}
			}
			if (x-152)*(x-152)+(y-30)*(y-30) < 60 {
				c = color.RGBA{R: 90, G: 90, B: 90, A: 255} // the broken lamp
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
