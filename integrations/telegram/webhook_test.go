package telegram

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// webhookRig is a webhook wired to a recording handler and a fake Bot API.
type webhookRig struct {
	wh  *Webhook
	rec *recorder
	api *telegramtest.Server
	log *logBuffer
}

func newRig(t *testing.T) *webhookRig {
	t.Helper()
	logs := &logBuffer{}
	client, api := newTestClient(t, logs.Logger())
	rec := newRecorder(t)
	wh, err := NewWebhook(Config{Secret: testSecret, Client: client, Handler: rec, Albums: newAlbums(t),
		Logger: logs.Logger(), AlbumWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return &webhookRig{wh: wh, rec: rec, api: api, log: logs}
}

// post sends body to the webhook with the secret header set to secret (none when "-"),
// and hands its answer to the fake Bot API, as Telegram runs a method an answer names.
func (r *webhookRig) post(t *testing.T, secret string, body []byte) int {
	t.Helper()
	rw := postTo(t, r.wh, secret, body)
	if err := r.api.WebhookAnswer(rw.Code, rw.Header(), rw.Body.Bytes()); err != nil {
		t.Error(err)
	}
	return rw.Code
}

// post sends body to h with the secret header set to secret (none when "-").
func post(t *testing.T, h http.Handler, secret string, body []byte) int {
	t.Helper()
	return postTo(t, h, secret, body).Code
}

func postTo(t *testing.T, h http.Handler, secret string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/telegram", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "-" {
		req.Header.Set(SecretHeader, secret)
	}
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, req)
	return rw
}

// close hands over the albums gathered (as a sweep once their window passed would)
// and waits for side calls.
func (r *webhookRig) close(t *testing.T) {
	t.Helper()
	sweepLater(r.wh, 0)
	if err := r.wh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// sweepLater runs one sweep of w as if it ran after the album window and then d more:
// the test says when, rather than waiting for it.
func sweepLater(w *Webhook, d time.Duration) {
	w.sweepAlbums(context.Background(), time.Now().Add(w.cfg.AlbumWindow+time.Second+d))
}

// sideCalls lists the Bot API methods the webhook called or named in its answers,
// getMe left out, in the order of their names: the answer's and the side calls' come
// in either order.
func (r *webhookRig) sideCalls() []string {
	var out []string
	for _, req := range r.api.Requests() {
		if req.Method != "getMe" {
			out = append(out, req.Method)
		}
	}
	slices.Sort(out)
	return out
}

// summary is an event as the table states it: "id kind detail".
func summary(ev bot.Event) string {
	s := ev.ID + " " + string(ev.Kind)
	switch ev.Kind {
	case bot.EventCommand:
		s += " " + ev.Command + " " + ev.Payload
	case bot.EventButton:
		s += " " + ev.Payload
	case bot.EventUnsupported:
		s += " " + ev.Unsupported
	case bot.EventAttachments:
		for _, a := range ev.Attachments {
			s += " " + a.Ref
		}
	case bot.EventContact:
		s += fmt.Sprintf(" own=%t", ev.Contact.Own)
	case bot.EventLocation:
		s += " " + ev.Location.Label
	}
	return strings.TrimSpace(s)
}

func TestWebhook(t *testing.T) {
	tests := []struct {
		label  string
		bodies []string // testdata files, posted in order
		secret string   // "-" sends no header
		fail   error    // the handler fails with it
		status int      // of every post
		events []string
		calls  []string // Bot API calls besides getMe, in order
	}{
		{label: "text", bodies: []string{"text.json"}, secret: testSecret, status: 200,
			events: []string{"700000001 text"}},
		{label: "start with payload", bodies: []string{"start_payload.json"}, secret: testSecret, status: 200,
			events: []string{"700000002 command start prog_green-2025"}},
		{label: "help with bot name", bodies: []string{"help_botname.json"}, secret: testSecret, status: 200,
			events: []string{"700000003 command help"}},
		{label: "button press is answered and its keyboard removed", bodies: []string{"callback_query.json"}, secret: testSecret, status: 200,
			events: []string{"700000004 button menu:propose"}, calls: []string{"answerCallbackQuery", "editMessageReplyMarkup"}},
		{label: "own contact", bodies: []string{"contact_own.json"}, secret: testSecret, status: 200,
			events: []string{"700000005 contact own=true"}},
		{label: "someone else's contact", bodies: []string{"contact_other.json"}, secret: testSecret, status: 200,
			events: []string{"700000006 contact own=false"}},
		{label: "location", bodies: []string{"location.json"}, secret: testSecret, status: 200,
			events: []string{"700000007 location"}},
		{label: "venue", bodies: []string{"venue.json"}, secret: testSecret, status: 200,
			events: []string{"700000008 location Hồ Hoàn Kiếm, Đinh Tiên Hoàng, Hoàn Kiếm, Hà Nội"}},
		{label: "photo: largest size", bodies: []string{"photo.json"}, secret: testSecret, status: 200,
			events: []string{"700000009 attachments AgACAgUAAxkBAAIBp_large"}},
		{label: "document with caption", bodies: []string{"document_caption.json"}, secret: testSecret, status: 200,
			events: []string{"700000010 attachments BQACAgUAAxkBAAIBq_doc"}},
		{label: "album is one event", bodies: []string{"album_part2.json", "album_part1.json", "album_part3.json", "album_part2.json"}, secret: testSecret, status: 200,
			events: []string{"700000012 attachments album1_large album2_large album3_large"}},
		{label: "voice", bodies: []string{"voice.json"}, secret: testSecret, status: 200,
			events: []string{"700000020 unsupported voice"}},
		{label: "video", bodies: []string{"video.json"}, secret: testSecret, status: 200,
			events: []string{"700000021 unsupported video"}},
		{label: "sticker", bodies: []string{"sticker.json"}, secret: testSecret, status: 200,
			events: []string{"700000022 unsupported sticker"}},
		{label: "edited message acknowledged, not run", bodies: []string{"edited_message.json"}, secret: testSecret, status: 200},
		{label: "blocked", bodies: []string{"my_chat_member_kicked.json"}, secret: testSecret, status: 200,
			events: []string{"700000024 unfollow"}},
		{label: "unblocked", bodies: []string{"my_chat_member_member.json"}, secret: testSecret, status: 200,
			events: []string{"700000025 follow"}},
		{label: "group chat gets one notice, nothing stored", bodies: []string{"group_message.json"}, secret: testSecret, status: 200,
			calls: []string{"sendMessage"}},
		{label: "unknown update kind", bodies: []string{"unknown_chat_join_request.json", "unknown_message_reaction.json"}, secret: testSecret, status: 200},
		{label: "docs: chat without type is the sender's private chat", bodies: []string{"docs_chat_without_type.json"}, secret: testSecret, status: 200,
			events: []string{"700000030 command start"}},
		{label: "group without type gets the group notice", bodies: []string{"group_without_type.json"}, secret: testSecret, status: 200,
			calls: []string{"sendMessage"}},
		{label: "chat id 0: acknowledged, nothing sent", bodies: []string{"chat_id_zero.json"}, secret: testSecret, status: 200},
		{label: "message without chat: acknowledged, nothing sent", bodies: []string{"message_without_chat.json"}, secret: testSecret, status: 200},
		{label: "docs: inline query with a numeric id", bodies: []string{"docs_inline_query.json", "docs_chosen_inline_result.json"}, secret: testSecret, status: 200},
		{label: "docs: button on an inline message", bodies: []string{"docs_callback_inline_message.json"}, secret: testSecret, status: 200,
			events: []string{"700000036 button menu:feedback"}, calls: []string{"answerCallbackQuery"}},
		{label: "unused fields of unexpected types", bodies: []string{"text_unused_fields_odd.json"}, secret: testSecret, status: 200,
			events: []string{"700000037 text"}},
		{label: "document of negative size goes to the flow, which refuses it", bodies: []string{"document_negative_size.json"}, secret: testSecret, status: 200,
			events: []string{"700000038 attachments BQACAgUAAxkBAAIBr_neg"}},
		{label: "duplicate update_id runs once", bodies: []string{"text.json", "text.json"}, secret: testSecret, status: 200,
			events: []string{"700000001 text"}},
		// A redelivery means Telegram missed the first answer, and the button's with it:
		// the answer names it again, and the gateway makes no call of its own.
		{label: "duplicate button press makes no extra calls", bodies: []string{"callback_query.json", "callback_query.json"}, secret: testSecret, status: 200,
			events: []string{"700000004 button menu:propose"}, calls: []string{"answerCallbackQuery", "answerCallbackQuery", "editMessageReplyMarkup"}},
		{label: "wrong secret", bodies: []string{"text.json"}, secret: "guess", status: 401},
		{label: "secret differing in the last byte", bodies: []string{"text.json"}, secret: testSecret[:len(testSecret)-1] + "X", status: 401},
		{label: "missing secret", bodies: []string{"callback_query.json"}, secret: "-", status: 401},
		{label: "handler fails: Telegram must deliver again", bodies: []string{"text.json"}, secret: testSecret, fail: errRedisDown, status: 500},
		{label: "handler fails on a button: not answered yet", bodies: []string{"callback_query.json"}, secret: testSecret, fail: errRedisDown, status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			rig := newRig(t)
			rig.rec.setFail(tt.fail)
			for _, f := range tt.bodies {
				if got := rig.post(t, tt.secret, readTestdata(t, f)); got != tt.status {
					t.Errorf("POST %s: status %d, want %d", f, got, tt.status)
				}
			}
			rig.close(t)
			var events []string
			for _, ev := range rig.rec.got() {
				events = append(events, summary(ev))
			}
			if !reflect.DeepEqual(events, tt.events) {
				t.Errorf("events:\n got %q\nwant %q", events, tt.events)
			}
			if calls := rig.sideCalls(); !reflect.DeepEqual(calls, tt.calls) {
				t.Errorf("Bot API calls: got %q, want %q", calls, tt.calls)
			}
		})
	}
}

func TestWebhookBodies(t *testing.T) {
	big := append([]byte(`{"update_id":1,"message":{"text":"`), bytes.Repeat([]byte("a"), DefaultMaxBody)...)
	big = append(big, `"}}`...)
	tests := []struct {
		label  string
		body   []byte
		length int64 // ContentLength to claim; -1 for unknown (chunked)
		status int
	}{
		{"oversized, declared", big, int64(len(big)), 413},
		{"oversized, chunked", big, -1, 413},
		{"malformed JSON", []byte(`{"update_id": 1, "message": {`), -1, 400},
		{"not JSON at all", []byte("update_id=1&text=hi"), -1, 400},
		// Valid JSON the gateway cannot use is acknowledged (and logged): refusing it
		// would make Telegram deliver it again and again.
		{"wrong type of update_id", []byte(`{"update_id": "one"}`), -1, 200},
		{"JSON that is not an object", []byte(`[{"update_id": 1}]`), -1, 200},
		{"empty object: unknown update", []byte(`{}`), -1, 200},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			rig := newRig(t)
			req := httptest.NewRequest(http.MethodPost, "/webhooks/telegram", bytes.NewReader(tt.body))
			req.ContentLength = tt.length
			req.Header.Set(SecretHeader, testSecret)
			rw := httptest.NewRecorder()
			rig.wh.ServeHTTP(rw, req)
			if rw.Code != tt.status {
				t.Errorf("status %d, want %d", rw.Code, tt.status)
			}
			rig.close(t)
			if n := len(rig.rec.got()); n != 0 {
				t.Errorf("%d events handed on", n)
			}
		})
	}
}

func TestWebhookRefusesOtherMethods(t *testing.T) {
	rig := newRig(t)
	rw := httptest.NewRecorder()
	rig.wh.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, "/webhooks/telegram", nil))
	if rw.Code != http.StatusMethodNotAllowed || rw.Header().Get("Allow") != "POST" {
		t.Errorf("GET: status %d, Allow %q", rw.Code, rw.Header().Get("Allow"))
	}
}

func TestNewWebhookConfig(t *testing.T) {
	albums := newAlbums(t)
	if _, err := NewWebhook(Config{Handler: newRecorder(t), Albums: albums}); err == nil {
		t.Error("webhook without a secret was built")
	}
	for _, bad := range []string{"with space", "ünïcode", strings.Repeat("a", 257)} {
		if _, err := NewWebhook(Config{Secret: bad, Handler: newRecorder(t), Albums: albums}); err == nil {
			t.Errorf("webhook with secret %.10q… was built", bad)
		}
	}
	if _, err := NewWebhook(Config{Secret: "x", Albums: albums}); err == nil {
		t.Error("webhook without a handler was built")
	}
	if _, err := NewWebhook(Config{Secret: "x", Handler: newRecorder(t)}); err == nil {
		t.Error("webhook without an album store was built")
	}
	wh, err := NewWebhook(Config{Secret: "x", Handler: newRecorder(t), Albums: albums})
	if err != nil {
		t.Fatal(err)
	}
	if wh.cfg.MaxBody != DefaultMaxBody || wh.cfg.AlbumWindow != DefaultAlbumWindow || wh.cfg.SideTimeout != DefaultSideTimeout {
		t.Errorf("defaults not applied: %+v", wh.cfg)
	}
}

// The group notice is bilingual and links to the private chat by the bot's username.
func TestGroupNotice(t *testing.T) {
	rig := newRig(t)
	// A busy group: three messages, one notice.
	for i := 0; i < 3; i++ {
		body := strings.Replace(string(readTestdata(t, "group_message.json")), `"update_id": `, `"update_id": 1`+strconv.Itoa(i), 1)
		rig.post(t, testSecret, []byte(body))
	}
	rig.close(t)
	sent := rig.api.Calls("sendMessage")
	if len(sent) != 1 {
		t.Fatalf("sendMessage calls: %d, want one notice for the group", len(sent))
	}
	p := sent[0].Params
	if p["chat_id"] != "-1001987654321" || p["reply_to_message_id"] != "912" {
		t.Errorf("notice sent to chat %s replying to %s", p["chat_id"], p["reply_to_message_id"])
	}
	link := "https://t.me/" + telegramtest.Username
	if !strings.Contains(p["text"], "nhắn riêng") || !strings.Contains(p["text"], "private chat") || !strings.Contains(p["text"], link) {
		t.Errorf("notice text %q", p["text"])
	}
	if n := (texts{bottest.Catalog(t)}).groupNotice(""); n == "" || strings.Contains(n, "t.me") {
		t.Errorf("notice without username: %q", n)
	}
	var g groupNotices
	now := time.Now()
	if !g.due(1, now) || g.due(1, now.Add(time.Minute)) || !g.due(2, now) || !g.due(1, now.Add(groupNoticeEvery)) {
		t.Error("a group is told once an hour, each group apart")
	}
}

// The pressed message loses its keyboard: editMessageReplyMarkup with an empty one.
func TestButtonSideCalls(t *testing.T) {
	rig := newRig(t)
	rig.post(t, testSecret, readTestdata(t, "callback_query.json"))
	rig.close(t)
	ans := rig.api.Calls("answerCallbackQuery")
	edit := rig.api.Calls("editMessageReplyMarkup")
	if len(ans) != 1 || ans[0].Params["callback_query_id"] != "4382bfdwdsb323b2d9" || !ans[0].Webhook {
		t.Fatalf("answerCallbackQuery: %+v, want it named in the webhook's answer", ans)
	}
	if len(edit) != 1 {
		t.Fatalf("editMessageReplyMarkup: %+v", edit)
	}
	if edit[0].Webhook {
		t.Error("editMessageReplyMarkup named in the answer: want a call of the gateway's own")
	}
	p := edit[0].Params
	var markup map[string]any
	if err := json.Unmarshal([]byte(p["reply_markup"]), &markup); err != nil {
		t.Fatalf("reply_markup %q: %v", p["reply_markup"], err)
	}
	if p["chat_id"] != "987654321" || p["message_id"] != "44" || fmt.Sprint(markup["inline_keyboard"]) != "[]" {
		t.Errorf("edit params %v", p)
	}
}

// Failing side calls are logged, scrubbed, and do not change the outcome of the update.
// answerCallbackQuery is a call of the gateway's own in polling (Process), where its
// failure is logged; a webhook names it in its answer, and Telegram tells nobody.
func TestButtonSideCallsFail(t *testing.T) {
	rig := newRig(t)
	rig.api.Fail("answerCallbackQuery", 400, `{"ok":false,"error_code":400,"description":"Bad Request: query is too old and response timeout expired or query ID is invalid"}`)
	rig.api.Fail("editMessageReplyMarkup", 400, `{"ok":false,"error_code":400,"description":"Bad Request: message is not modified"}`)
	if err := rig.wh.Process(context.Background(), readTestdata(t, "callback_query.json")); err != nil {
		t.Fatalf("Process: %v", err)
	}
	rig.close(t)
	if ans := rig.api.Calls("answerCallbackQuery"); len(ans) != 1 || ans[0].Webhook {
		t.Errorf("answerCallbackQuery in polling: %+v, want one call of the gateway's own", ans)
	}
	logs := rig.log.String()
	if !strings.Contains(logs, "answerCallbackQuery failed") {
		t.Errorf("failed answer not logged:\n%s", logs)
	}
	if strings.Contains(logs, "removing pressed keyboard failed") {
		t.Errorf("'message is not modified' logged as a failure:\n%s", logs)
	}
	if strings.Contains(logs, telegramtest.Token) {
		t.Errorf("token in logs:\n%s", logs)
	}
}

// Logs of a failed event name the update and a masked chat, never the citizen's words.
func TestWebhookLogsNoPersonalData(t *testing.T) {
	rig := newRig(t)
	rig.rec.setFail(errRedisDown)
	rig.post(t, testSecret, readTestdata(t, "text.json"))
	rig.post(t, testSecret, readTestdata(t, "contact_own.json"))
	rig.rec.setFail(nil)
	rig.post(t, testSecret, readTestdata(t, "group_message.json"))
	rig.close(t)
	logs := rig.log.String()
	for _, secret := range []string{"987654321", "Trần Hưng Đạo", "84912345678", "Nguyễn", "lan_hn", "-1001987654321", telegramtest.Token} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "tg:98***21") || !strings.Contains(logs, "update=700000001") {
		t.Errorf("logs lack the update and masked chat:\n%s", logs)
	}
}

// Without a client the webhook still runs events; side calls are skipped.
func TestWebhookWithoutClient(t *testing.T) {
	rec := newRecorder(t)
	wh, err := NewWebhook(Config{Secret: testSecret, Handler: rec, Albums: newAlbums(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"callback_query.json", "group_message.json"} {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/telegram", bytes.NewReader(readTestdata(t, f)))
		req.Header.Set(SecretHeader, testSecret)
		rw := httptest.NewRecorder()
		wh.ServeHTTP(rw, req)
		if rw.Code != 200 {
			t.Errorf("%s: status %d", f, rw.Code)
		}
	}
	if err := wh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.got()); n != 1 {
		t.Errorf("events: %d, want the button only", n)
	}
}

// Process is the path polling uses: it reports an engine failure as an error.
func TestProcessReportsEngineFailure(t *testing.T) {
	rig := newRig(t)
	rig.rec.setFail(errRedisDown)
	var u = mustUpdate(t, "text.json")
	if err := rig.wh.Process(context.Background(), u); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Process: %v", err)
	}
	rig.close(t)
}

// An update Telegram would never send is acknowledged, so it is not delivered forever.
func TestWebhookAcknowledgesUnusableUpdate(t *testing.T) {
	rig := newRig(t)
	if got := rig.post(t, testSecret, []byte(`{"update_id":5,"message":{"message_id":1,"text":"hi"}}`)); got != 200 {
		t.Errorf("status %d, want 200", got)
	}
	rig.close(t)
	if !strings.Contains(rig.log.String(), "unusable update acknowledged") {
		t.Errorf("not logged:\n%s", rig.log.String())
	}
}

// Each unusable update is one log line naming the update and why, with nothing of the
// citizen's in it, and never a call to the Bot API.
func TestWebhookUnusableUpdateLogsOneLine(t *testing.T) {
	for _, f := range []string{"chat_id_zero.json", "message_without_chat.json"} {
		t.Run(f, func(t *testing.T) {
			rig := newRig(t)
			if got := rig.post(t, testSecret, readTestdata(t, f)); got != 200 {
				t.Errorf("status %d, want 200", got)
			}
			rig.close(t)
			logs := rig.log.String()
			if n := strings.Count(logs, "\n"); n != 1 || !strings.Contains(logs, "unusable update acknowledged") || !strings.Contains(logs, "update=7000000") {
				t.Errorf("want one line about the update, got %d:\n%s", n, logs)
			}
			if strings.Contains(logs, "987654321") || strings.Contains(logs, "Xin chào") {
				t.Errorf("logs hold the citizen's id or words:\n%s", logs)
			}
			if calls := rig.sideCalls(); len(calls) != 0 {
				t.Errorf("Bot API calls %q for an unusable update", calls)
			}
		})
	}
}

// A field the gateway reads, of an unexpected type, is left empty and named in one log
// line, without its value; the rest of the update runs.
func TestWebhookUpdateReadInPart(t *testing.T) {
	rig := newRig(t)
	body := `{"update_id":700000050,"message":{"message_id":7,"date":1764317400,"from":{"id":987654321,"language_code":84912345678},` +
		`"chat":{"id":987654321,"type":"private"},"text":"Xin chào"}}`
	if got := rig.post(t, testSecret, []byte(body)); got != 200 {
		t.Errorf("status %d, want 200", got)
	}
	unusable := `{"update_id":700000051,"message":{"message_id":8,"from":{"id":987654321},"chat":{"id":"987654321","type":"private"},"text":84912345678}}`
	if got := rig.post(t, testSecret, []byte(unusable)); got != 200 {
		t.Errorf("status %d, want 200", got)
	}
	rig.close(t)
	var events []string
	for _, ev := range rig.rec.got() {
		events = append(events, summary(ev)+" lang="+ev.Lang)
	}
	if !reflect.DeepEqual(events, []string{"700000050 text lang="}) {
		t.Errorf("events %q", events)
	}
	logs := rig.log.String()
	if !strings.Contains(logs, "update read in part") || !strings.Contains(logs, "from.language_code") ||
		!strings.Contains(logs, "unusable update acknowledged") || !strings.Contains(logs, "chat.id") {
		t.Errorf("the fields are not named:\n%s", logs)
	}
	if strings.Contains(logs, "84912345678") || strings.Contains(logs, "987654321") {
		t.Errorf("logs hold the citizen's data:\n%s", logs)
	}
	if calls := rig.sideCalls(); len(calls) != 0 {
		t.Errorf("Bot API calls %q", calls)
	}
}

// Close returns when its context ends, even while a side call hangs on a slow API.
func TestCloseBoundedByContext(t *testing.T) {
	rig := newRig(t)
	rig.api.SetDelay(time.Hour)
	rig.post(t, testSecret, readTestdata(t, "group_message.json"))
	rig.api.Wait("sendMessage", 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rig.wh.Close(ctx); err == nil {
		t.Error("Close waited past its context")
	}
	rig.api.SetDelay(0)
	rig.api.CloseClientConnections()
}

// A stream of requests with a wrong secret (a misconfigured proxy, a scan) is one WARN
// line, then counted; the first request with the secret says how many were refused.
func TestWebhookRefusalsAreNotAFlood(t *testing.T) {
	rig := newRig(t)
	for range 50 {
		if got := rig.post(t, "guess", readTestdata(t, "text.json")); got != 401 {
			t.Fatalf("status %d, want 401", got)
		}
	}
	if got := rig.post(t, testSecret, readTestdata(t, "text.json")); got != 200 {
		t.Fatalf("status %d, want 200", got)
	}
	rig.close(t)
	logs := rig.log.String()
	if n := strings.Count(logs, "secret mismatch"); n != 1 {
		t.Errorf("%d lines about the wrong secret, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "carry the secret again") || !strings.Contains(logs, "occurrences=50") {
		t.Errorf("no line saying the refusals ended, with their count:\n%s", logs)
	}
}
