package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/console/consoletest"
)

// citizens makes n Telegram citizens through the desk's engine, writing in lang, and
// one more who says stop; it returns their conversations (the last said stop).
func (d *desk) citizens(n int, lang string) []bot.ConversationRef {
	d.t.Helper()
	var out []bot.ConversationRef
	for i := range n + 1 {
		d.citizen++
		conv := bot.ConversationRef{Channel: bot.Telegram, ID: fmt.Sprint(5000 + d.citizen)}
		texts := []string{"xin chào"}
		if i == n {
			texts = append(texts, "dừng")
		}
		for j, text := range texts {
			ev := bot.Event{ID: fmt.Sprintf("%s-bc%d", conv.ID, j), Conversation: conv, Kind: bot.EventText, Text: text, Lang: lang}
			if _, err := d.engine.Handle(context.Background(), ev); err != nil {
				d.t.Fatal(err)
			}
		}
		out = append(out, conv)
	}
	return out
}

type broadcastAnswer struct {
	ID       string
	Audience string
	Channel  string
	Lang     string
	Text     bot.Text
	At       time.Time
	By       string
	State    string
	Progress struct {
		Queued, Sent, Failed int64
		Finished             bool
		Percent              float64
		Recipients           int64
		Rate                 float64
		LeftSeconds          *int64 `json:"left_seconds"`
	}
}

var hiddenID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// Who may do what: operators read the broadcasts, admins make and cancel them; every
// form needs its CSRF token; a preview comes before a confirmation, and a confirmation
// sent twice makes one broadcast.
func TestBroadcastPagesByRoleAndForm(t *testing.T) {
	d := newDesk(t, false)
	d.citizens(2, "vi")
	op := d.browser()
	opCSRF := d.login(op, lan, lanPassword)
	if res, body := d.get(op, "/console/broadcasts"); res.StatusCode != 200 || !strings.Contains(body, "Chưa có thông báo nào.") ||
		!strings.Contains(body, `href="/console/broadcasts" aria-current="page">Thông báo</a>`) || strings.Contains(body, "/console/broadcasts/new") {
		t.Errorf("an operator's list: %d", res.StatusCode)
	}
	if res, _ := d.get(op, "/console/broadcasts/new"); res.StatusCode != http.StatusForbidden {
		t.Errorf("an operator's new page: %d", res.StatusCode)
	}
	for _, p := range []string{"/console/broadcasts/preview", "/console/broadcasts", "/console/broadcasts/20261201-aaaaaaaaaaaa/cancel"} {
		if res, _ := d.form(op, p, url.Values{"csrf": {opCSRF}, "text_vi": {"Xin chào"}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("an operator's form to %s: %d", p, res.StatusCode)
		}
	}

	ad := d.browser()
	csrf := d.login(ad, an, anPassword)
	res, body := d.get(ad, "/console/broadcasts/new")
	if res.StatusCode != 200 || !strings.Contains(body, `value="program:`) || !strings.Contains(body, `value="draft:`) || !strings.Contains(body, `type="datetime-local"`) {
		t.Fatalf("the new page: %d", res.StatusCode)
	}
	text := "Chương trình “Đô thị thông minh” nhận sáng kiến đến hết 31/12/2026. Bạn gõ \"menu\" để gửi sáng kiến."
	form := url.Values{"audience": {"subscribed"}, "channel": {""}, "lang": {""}, "text_vi": {text}, "text_en": {""}, "at": {""}}
	if res, _ := d.form(ad, "/console/broadcasts/preview", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("a preview without its CSRF token: %d", res.StatusCode)
	}
	res, body = d.form(ad, "/console/broadcasts/preview", with(form, csrf))
	if res.StatusCode != 200 || !strings.Contains(body, "Khoảng 2 người nhận") || strings.Count(body, `id="bc-`) < 3 ||
		!strings.Contains(body, "Không có bản tiếng Anh") || !strings.Contains(body, "gửi ngay sau khi xác nhận") {
		t.Fatalf("the preview: %d\n%s", res.StatusCode, between(body, `<section class="panel preview"`, "</section>"))
	}
	if n := strings.Count(body, `<p class="line out bc-text"`); n != 2 {
		t.Errorf("the preview shows %d texts, want both languages (English falling back)", n)
	}
	m := hiddenID.FindStringSubmatch(body)
	if m == nil || !bot.IsBroadcastID(m[1]) {
		t.Fatalf("the preview carries no id: %v", m)
	}
	id := m[1]
	if res, body := d.form(ad, "/console/broadcasts", with(form, csrf)); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Vui lòng xem trước") {
		t.Errorf("a confirmation without a preview: %d", res.StatusCode)
	}
	confirm := with(form, csrf)
	confirm.Set("id", id)
	res, _ = d.form(ad, "/console/broadcasts", confirm)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/broadcasts/"+id+"?flash=created" {
		t.Fatalf("confirm: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := d.form(ad, "/console/broadcasts", confirm); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/broadcasts/"+id {
		t.Errorf("confirmed twice: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var list []broadcastAnswer
	if d.api(lan, "GET", "/console/api/broadcasts", nil, &list) != 200 || len(list) != 1 || list[0].ID != id || list[0].Text.VI != text ||
		list[0].By != an || list[0].State != "scheduled" || list[0].Audience != "subscribed" {
		t.Fatalf("the list: %+v", list)
	}
	_, page := d.get(ad, "/console/broadcasts/"+id+"?flash=created")
	if !strings.Contains(page, "Đã tạo thông báo.") || !strings.Contains(page, "Đã lên lịch") || !strings.Contains(page, "Hủy thông báo") ||
		!strings.Contains(page, "Nhóm nhận hiện có khoảng 2 người") {
		t.Errorf("the broadcast's page:\n%s", between(page, "<main", "</main>"))
	}
	if _, page := d.get(op, "/console/broadcasts/"+id); strings.Contains(page, "/cancel") {
		t.Error("an operator is offered the cancel button")
	}

	// Refused forms keep what was typed.
	for _, c := range []struct{ field, value, want string }{
		{"at", "2026-11-30T09:00", "Thời điểm gửi đã qua"},
		{"at", "mai", "Thời điểm gửi không hợp lệ"},
		{"text_vi", "  ", "Vui lòng nhập nội dung tiếng Việt"},
		{"audience", "program:khong-co", "Nhóm nhận, kênh hoặc ngôn ngữ không hợp lệ"},
		{"lang", "fr", "Nhóm nhận, kênh hoặc ngôn ngữ không hợp lệ"},
	} {
		f := with(form, csrf)
		f.Set(c.field, c.value)
		res, body := d.form(ad, "/console/broadcasts/preview", f)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, c.want) || (c.field != "text_vi" && !strings.Contains(body, "nhận sáng kiến đến hết 31/12/2026")) {
			t.Errorf("%s=%q: %d, want %q", c.field, c.value, res.StatusCode, c.want)
		}
	}
	// A later time, in Hanoi's.
	f := with(form, csrf)
	f.Set("at", "2026-12-02T08:30")
	if _, body := d.form(ad, "/console/broadcasts/preview", f); !strings.Contains(body, "gửi từ 02/12/2026 08:30") {
		t.Errorf("a scheduled preview: %s", between(body, `id="bc-reach"`, "</p>"))
	}

	// Cancel, twice.
	cancel := url.Values{"csrf": {csrf}}
	if res, _ := d.form(ad, "/console/broadcasts/"+id+"/cancel", url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a cancel without its CSRF token: %d", res.StatusCode)
	}
	if res, _ := d.form(ad, "/console/broadcasts/"+id+"/cancel", cancel); res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "?flash=cancelled") {
		t.Errorf("cancel: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = d.form(ad, "/console/broadcasts/"+id+"/cancel", cancel)
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "?error=not_cancellable") {
		t.Errorf("cancelled again: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, page := d.get(ad, res.Header.Get("Location")); !strings.Contains(page, "Không thể hủy") || !strings.Contains(page, "Đã hủy") || strings.Contains(page, `/cancel"`) {
		t.Errorf("a cancelled broadcast's page:\n%s", between(page, "<main", "</main>"))
	}
	if res, _ := d.form(ad, "/console/broadcasts/20261201-aaaaaaaaaaaa/cancel", cancel); res.StatusCode != http.StatusNotFound {
		t.Errorf("cancel an unknown broadcast: %d", res.StatusCode)
	}
	if res, _ := d.get(ad, "/console/broadcasts/nope"); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown broadcast's page: %d", res.StatusCode)
	}
	wantLines(t, "the audit", d.auditLines(bot.AuditQuery{Action: bot.AuditBroadcastCancel}), []string{an + " broadcast_cancel " + id})
	created := d.auditLines(bot.AuditQuery{Action: bot.AuditBroadcastCreate})
	if len(created) != 1 || !strings.HasPrefix(created[0], an+" broadcast_create "+id+" subscribed, 2 recipients") {
		t.Errorf("the audit of creates: %v", created)
	}
	if _, page := d.get(ad, "/console/audit"); !strings.Contains(page, "Tạo thông báo") {
		t.Error("the audit page's filter does not name the broadcasts' actions")
	}
}

// The API: roles, a preview that makes nothing, a broadcast made, read and cancelled.
func TestBroadcastAPI(t *testing.T) {
	d := newDesk(t, false)
	d.citizens(3, "en")
	for _, c := range []struct {
		who, method, path string
		body              any
		want              int
	}{
		{"", "GET", "/console/api/broadcasts", nil, http.StatusUnauthorized},
		{lan, "POST", "/console/api/broadcasts", map[string]any{"audience": "subscribed", "text": map[string]string{"vi": "Xin chào"}}, http.StatusForbidden},
		{lan, "POST", "/console/api/broadcasts/20261201-aaaaaaaaaaaa/cancel", nil, http.StatusForbidden},
		{an, "POST", "/console/api/broadcasts", map[string]any{"audience": "everyone", "text": map[string]string{"vi": "Xin chào"}}, http.StatusBadRequest},
		{an, "POST", "/console/api/broadcasts", map[string]any{"audience": "draft:khong-co", "text": map[string]string{"vi": "Xin chào"}}, http.StatusBadRequest},
		{an, "POST", "/console/api/broadcasts", map[string]any{"audience": "subscribed", "text": map[string]string{"en": "Hello"}}, http.StatusBadRequest},
		{an, "POST", "/console/api/broadcasts", map[string]any{"audience": "subscribed", "text": map[string]string{"vi": "Xin chào"}, "at": "tomorrow"}, http.StatusBadRequest},
		{an, "POST", "/console/api/broadcasts", map[string]any{"audience": "subscribed", "text": map[string]string{"vi": "Xin chào"}, "colour": "red"}, http.StatusBadRequest},
		{an, "POST", "/console/api/broadcasts/20261201-aaaaaaaaaaaa/cancel", nil, http.StatusNotFound},
		{lan, "GET", "/console/api/broadcasts/20261201-aaaaaaaaaaaa", nil, http.StatusNotFound},
	} {
		if got := d.api(c.who, c.method, c.path, c.body, nil); got != c.want {
			t.Errorf("%s %s %s: %d, want %d", c.who, c.method, c.path, got, c.want)
		}
	}
	in := map[string]any{"audience": "subscribed", "lang": "en", "text": map[string]string{"vi": "Sắp hết hạn", "en": "Closing soon"},
		"at": "2026-12-01T10:00:00+07:00", "preview": true}
	var got broadcastAnswer
	if d.api(an, "POST", "/console/api/broadcasts", in, &got) != 200 || got.Progress.Recipients != 3 || got.Lang != "en" {
		t.Errorf("preview: %+v", got)
	}
	var list []broadcastAnswer
	if d.api(an, "GET", "/console/api/broadcasts", nil, &list); len(list) != 0 {
		t.Errorf("a preview made a broadcast: %+v", list)
	}
	delete(in, "preview")
	if d.api(an, "POST", "/console/api/broadcasts", in, &got) != http.StatusCreated || !bot.IsBroadcastID(got.ID) || got.State != "scheduled" ||
		!got.At.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, bot.HoChiMinh())) {
		t.Fatalf("create: %+v", got)
	}
	var one broadcastAnswer
	if d.api(lan, "GET", "/console/api/broadcasts/"+got.ID, nil, &one) != 200 || one.Text.EN != "Closing soon" || one.Progress.Recipients != 3 || one.Progress.Queued != 0 {
		t.Errorf("read: %+v", one)
	}
	if d.api(an, "POST", "/console/api/broadcasts/"+got.ID+"/cancel", nil, &one) != 200 || one.State != "cancelled" {
		t.Errorf("cancel: %+v", one)
	}
	if code := d.api(an, "POST", "/console/api/broadcasts/"+got.ID+"/cancel", nil, nil); code != http.StatusConflict {
		t.Errorf("cancel again: %d", code)
	}
}

// A broadcast made in the console and fanned out by a broadcast.Runner: its page shows
// how many were queued, sent and failed, the rate and the time left, and reloads itself
// until every message is done.
func TestBroadcastPageShowsFanOut(t *testing.T) {
	d := newDesk(t, false)
	d.citizens(4, "vi")
	var b broadcastAnswer
	if d.api(an, "POST", "/console/api/broadcasts", map[string]any{"audience": "subscribed", "text": map[string]string{"vi": "Nhắc hạn chót"}}, &b) != http.StatusCreated {
		t.Fatal("create")
	}
	clock := func() time.Time {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.now
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	runner := &broadcast.Runner{Store: d.st, Holder: "test", Tick: 20 * time.Millisecond, Now: clock}
	go func() { _ = runner.Run(ctx) }()
	waitUntil(t, "the fan-out", func() bool {
		got, err := d.st.Broadcast(ctx, b.ID)
		return err == nil && got.State == bot.BroadcastQueued
	})
	stop()

	// The bulk lane's sender: two delivered, one refused, one still going, 30s after
	// the broadcast's time.
	q := d.st.Bulk().Sender(bot.Telegram, "sender-1", redisstore.SenderOptions{Hold: time.Second, Poll: 10 * time.Millisecond})
	var got []bot.Delivery
	waitUntil(t, "the bulk lane", func() bool {
		ds, err := q.Claim(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ds...)
		return len(got) == 4
	})
	for i, del := range got[:3] {
		var err error
		if i == 2 {
			err = q.Fail(context.Background(), del, bot.DeliveryFailure{Outbound: del.Outbound, Failure: "permanent", At: clock()})
		} else {
			err = q.Ack(context.Background(), del)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	d.advance(30 * time.Second)
	c := d.browser()
	d.login(c, lan, lanPassword)
	_, page := d.get(c, "/console/broadcasts/"+b.ID)
	for _, want := range []string{`id="bc-queued">4<`, `id="bc-sent">2<`, `id="bc-failed">1<`, `id="bc-rate">0,1 tin/giây<`,
		"Còn khoảng dưới 1 phút", "Đã xử lý 3/4 tin nhắn (75%)", `class="fill w75"`, `<meta http-equiv="refresh" content="5">`, "Đang gửi"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, between(page, "<main", "</main>"))
		}
	}
	var one broadcastAnswer
	if d.api(lan, "GET", "/console/api/broadcasts/"+b.ID, nil, &one) != 200 || one.Progress.Rate != 0.1 || one.Progress.LeftSeconds == nil ||
		*one.Progress.LeftSeconds != 10 || one.Progress.Finished || one.Progress.Percent != 75 {
		t.Errorf("the progress: %+v", one.Progress)
	}
	_, list := d.get(c, "/console/broadcasts")
	if !strings.Contains(list, "2/4 (lỗi: 1)") || !strings.Contains(list, `<meta http-equiv="refresh"`) {
		t.Errorf("the list:\n%s", between(list, "<tbody>", "</tbody>"))
	}

	// The last one's citizen said stop meanwhile: skipped, counted by reason; the
	// broadcast is finished, and the page stops reloading.
	if err := q.Fail(context.Background(), got[3], bot.DeliveryFailure{Outbound: got[3].Outbound, Failure: "skipped", Skip: bot.SkipStopped, At: clock()}); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, page = d.get(c, "/console/broadcasts/"+b.ID+"?lang=en")
	for _, want := range []string{`id="bc-sent">2<`, `id="bc-skipped">1<`, `id="bc-skips">said stop: 1<`, "Finished", `class="fill w100"`, "4 of 4 messages done (100%)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the finished page lacks %q:\n%s", want, between(page, "<main", "</main>"))
		}
	}
	if strings.Contains(page, `http-equiv="refresh"`) {
		t.Error("a finished broadcast's page still reloads itself")
	}
}

// waitUntil polls until cond holds; the deadline only guards against a hang.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// In a browser, under the console's Content-Security-Policy: an admin writes a
// broadcast, previews it and confirms it; its page shows it scheduled, with its bar.
func TestBroadcastFormInABrowser(t *testing.T) {
	d := newDesk(t, false)
	d.citizens(2, "vi")
	b := consoletest.Browser(t)
	text := "Chương trình nhận sáng kiến đến hết 31/12/2026."
	if err := chromedp.Do(b,
		chromedp.Navigate(d.srv.URL+"/console/login"),
		chromedp.SendKeys(chromedp.ID("email"), an),
		chromedp.SendKeys(chromedp.ID("password"), anPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("counts")),
		chromedp.Navigate(d.srv.URL+"/console/broadcasts/new"),
		chromedp.SendKeys(chromedp.ID("bc-text-vi"), text),
		chromedp.Click(chromedp.ID("bc-preview")),
		chromedp.WaitVisible(chromedp.ID("bc-reach")),
	); err != nil {
		t.Fatal(err)
	}
	reach, err := chromedp.Run(b, consoletest.Text("#bc-reach"))
	if err != nil {
		t.Fatal(err)
	}
	en, err := chromedp.Run(b, consoletest.Text("#bc-en"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reach, "Khoảng 2 người nhận") || en != text {
		t.Errorf("the preview says %q, English %q", reach, en)
	}
	path := filepath.Join(t.TempDir(), "broadcast-preview.png")
	if *screens != "" {
		path = filepath.Join(*screens, "broadcast-preview.vi.png")
	}
	if err := chromedp.Do(b, consoletest.Screenshot(path), chromedp.Click(chromedp.ID("bc-confirm")), chromedp.WaitVisible(chromedp.ID("bc-phase"))); err != nil {
		t.Fatal(err)
	}
	checkScreenshot(t, path)
	page := filepath.Join(filepath.Dir(path), "broadcast.vi.png")
	if err := chromedp.Do(b, consoletest.Screenshot(page)); err != nil {
		t.Fatal(err)
	}
	checkScreenshot(t, page)
	phase, err := chromedp.Run(b, consoletest.Text("#bc-phase"))
	if err != nil {
		t.Fatal(err)
	}
	var list []broadcastAnswer
	if phase != "Đã lên lịch" || d.api(an, "GET", "/console/api/broadcasts", nil, &list) != 200 || len(list) != 1 || list[0].Text.VI != text {
		t.Errorf("after confirming: %q, %+v", phase, list)
	}
}
