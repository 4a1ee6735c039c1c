package zalo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

// webhookRig is a webhook wired to a recording handler, with a clock a minute after
// the testdata's timestamps.
type webhookRig struct {
	wh    *Webhook
	rec   *recorder
	log   *logBuffer
	store *redisstore.Store
	inbox *redisstore.Inbox
}

func newRig(t *testing.T, now func() time.Time) *webhookRig {
	t.Helper()
	logs := &logBuffer{}
	rec := newRecorder(t)
	store := inboxStore(t, nil)
	inbox := store.Inbox("zalo", testPeriod)
	wh, err := NewWebhook(Config{AppID: zalotest.AppID, OASecret: zalotest.OASecret, Handler: rec, Inbox: inbox, Logger: logs.Logger(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return &webhookRig{wh: wh, rec: rec, log: logs, store: store, inbox: inbox}
}

// waiting is the number of events in the rig's inbox.
func (r *webhookRig) waiting(t *testing.T) int64 {
	t.Helper()
	n, err := r.inbox.Len(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Signature variants a table row may ask for.
const (
	sigRight    = "right"     // "mac=<hex>", as Zalo sends it
	sigBare     = "bare"      // "<hex>" without the prefix
	sigUpper    = "upper"     // "MAC=<HEX>"
	sigWrong    = "wrong"     // signed with another OA secret
	sigOtherApp = "other app" // signed for another app id
	sigLastByte = "last byte" // right but for its last hex digit
	sigMissing  = "missing"   // no header
	sigGarbage  = "garbage"   // not hex
)

// post sends body to the webhook with the signature variant sig.
func (r *webhookRig) post(t *testing.T, sig string, body []byte) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/zalo", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if h := signature(sig, body); h != "" {
		req.Header.Set(SignatureHeader, h)
	}
	rw := httptest.NewRecorder()
	r.wh.ServeHTTP(rw, req)
	return rw.Code
}

func signature(sig string, body []byte) string {
	right := zalotest.Sign(zalotest.AppID, body, zalotest.OASecret)
	switch sig {
	case sigRight:
		return right
	case sigBare:
		return strings.TrimPrefix(right, "mac=")
	case sigUpper:
		return strings.ToUpper(right)
	case sigWrong:
		return zalotest.Sign(zalotest.AppID, body, "another-secret")
	case sigOtherApp:
		return zalotest.Sign("999", body, zalotest.OASecret)
	case sigLastByte:
		last := right[len(right)-1]
		if last == '0' {
			return right[:len(right)-1] + "1"
		}
		return right[:len(right)-1] + "0"
	case sigGarbage:
		return "mac=not-hex-at-all"
	}
	return ""
}

// summary is an event as the table states it: "id conversation kind detail".
func summary(ev bot.Event) string {
	s := ev.ID + " " + ev.Conversation.Key() + " " + string(ev.Kind)
	switch ev.Kind {
	case bot.EventText:
		s += " " + ev.Text
	case bot.EventUnsupported:
		s += " " + ev.Unsupported
	case bot.EventAttachments:
		for _, a := range ev.Attachments {
			s += fmt.Sprintf(" %s:%s:%s:%d", a.Kind, a.Ref, a.Name, a.Size)
		}
		if ev.Text != "" {
			s += " caption=" + ev.Text
		}
	case bot.EventContact:
		s += fmt.Sprintf(" %s %s own=%t", ev.Contact.Name, ev.Contact.Phone, ev.Contact.Own)
		if ev.Contact.Address != "" {
			s += " address=" + ev.Contact.Address
		}
	case bot.EventStaffMessage:
		s += " " + ev.Text
	case bot.EventLocation:
		s += fmt.Sprintf(" %.6f,%.6f %s", ev.Location.Lat, ev.Location.Lon, ev.Location.Label)
	}
	return strings.TrimSpace(s)
}

const user = "zl:7392845012349876543"

func TestWebhook(t *testing.T) {
	late := func() time.Time { return testNow.Add(3 * time.Hour) }
	early := func() time.Time { return testNow.Add(-3 * time.Hour) }
	tests := []struct {
		label  string
		bodies []string // testdata files, posted in order
		sig    string
		now    func() time.Time // default fixedNow
		fail   error            // the handler fails with it
		status int              // of every post
		events []string
	}{
		{label: "text", bodies: []string{"text.json"}, sig: sigRight, status: 200,
			events: []string{"a1b2c3d4e5f60718293a4b5c6d7e8f90 " + user + " text Xin chào, tôi muốn gửi sáng kiến"}},
		{label: "ids and timestamp as bare numbers keep every digit", bodies: []string{"text_numeric_ids.json"}, sig: sigRight, status: 200,
			events: []string{"b1b2c3d4e5f60718293a4b5c6d7e8f91 " + user + " text 1"}},
		{label: "image with caption", bodies: []string{"image.json"}, sig: sigRight, status: 200,
			events: []string{"c1b2c3d4e5f60718293a4b5c6d7e8f92 " + user + " attachments photo:https://photo-stal-1.zdn.vn/abc.jpg::0 caption=Đèn hỏng trước số 12"}},
		{label: "file: name gets its extension, size read from a string", bodies: []string{"file.json"}, sig: sigRight, status: 200,
			events: []string{"d1b2c3d4e5f60718293a4b5c6d7e8f93 " + user + " attachments document:https://f1.zdn.vn/file/de-xuat.pdf:de-xuat.pdf:248112"}},
		{label: "image not on Zalo's file servers: refused at the step", bodies: []string{"image_elsewhere.json"}, sig: sigRight, status: 200,
			events: []string{"c3b2c3d4e5f60718293a4b5c6d7e8f9b " + user + " unsupported file_elsewhere"}},
		{label: "file on Zalo's host but plain http: refused at the step", bodies: []string{"file_plain_http.json"}, sig: sigRight, status: 200,
			events: []string{"d3b2c3d4e5f60718293a4b5c6d7e8f9c " + user + " unsupported file_elsewhere"}},
		{label: "location with string coordinates", bodies: []string{"location.json"}, sig: sigRight, status: 200,
			events: []string{"e1b2c3d4e5f60718293a4b5c6d7e8f94 " + user + " location 21.028511,105.854167 Hồ Hoàn Kiếm"}},
		{label: "sticker", bodies: []string{"sticker.json"}, sig: sigRight, status: 200,
			events: []string{"f1b2c3d4e5f60718293a4b5c6d7e8f91 " + user + " unsupported sticker"}},
		{label: "gif", bodies: []string{"gif.json"}, sig: sigRight, status: 200,
			events: []string{"f2b2c3d4e5f60718293a4b5c6d7e8f92 " + user + " unsupported gif"}},
		{label: "audio", bodies: []string{"audio.json"}, sig: sigRight, status: 200,
			events: []string{"f3b2c3d4e5f60718293a4b5c6d7e8f93 " + user + " unsupported audio"}},
		{label: "video", bodies: []string{"video.json"}, sig: sigRight, status: 200,
			events: []string{"f4b2c3d4e5f60718293a4b5c6d7e8f94 " + user + " unsupported video"}},
		{label: "link", bodies: []string{"link.json"}, sig: sigRight, status: 200,
			events: []string{"f5b2c3d4e5f60718293a4b5c6d7e8f95 " + user + " unsupported link"}},
		{label: "business card", bodies: []string{"business_card.json"}, sig: sigRight, status: 200,
			events: []string{"f6b2c3d4e5f60718293a4b5c6d7e8f96 " + user + " unsupported business_card"}},
		{label: "follow: no msg_id, named by the body's hash", bodies: []string{"follow.json"}, sig: sigRight, status: 200,
			events: []string{bodyID(t, "follow.json") + " " + user + " follow"}},
		{label: "unfollow", bodies: []string{"unfollow.json"}, sig: sigRight, status: 200,
			events: []string{bodyID(t, "unfollow.json") + " " + user + " unfollow"}},
		{label: "follow, unfollow, follow again: three events", bodies: []string{"follow.json", "unfollow.json", "follow.json"}, sig: sigRight, status: 200,
			events: []string{bodyID(t, "follow.json") + " " + user + " follow", bodyID(t, "unfollow.json") + " " + user + " unfollow"}},
		{label: "submitted info is the citizen's own contact, with its full_address", bodies: []string{"submit_info.json"}, sig: sigRight, status: 200,
			events: []string{bodyID(t, "submit_info.json") + " " + user + " contact Nguyễn Thị Lan 84912345678 own=true address=12 Hàng Bài, Phường Cửa Nam, Thành phố Hà Nội"}},
		{label: "submitted info of an older form, address flat", bodies: []string{"submit_info_flat.json"}, sig: sigRight, status: 200,
			events: []string{bodyID(t, "submit_info_flat.json") + " " + user + " contact Nguyễn Thị Lan 84912345678 own=true address=12 Hàng Bài, Hàng Bài, Hoàn Kiếm, Hà Nội"}},
		{label: "echo of the gateway's own send (no admin_id) is not news", bodies: []string{"oa_send_text.json"}, sig: sigRight, status: 200},
		{label: "receipts are not citizen input", bodies: []string{"user_received_message.json", "user_seen_message.json"}, sig: sigRight, status: 200},
		{label: "unknown event kind", bodies: []string{"unknown_user_reacted_message.json"}, sig: sigRight, status: 200},
		{label: "duplicate msg_id runs once", bodies: []string{"text.json", "text.json", "image.json", "text.json"}, sig: sigRight, status: 200,
			events: []string{"a1b2c3d4e5f60718293a4b5c6d7e8f90 " + user + " text Xin chào, tôi muốn gửi sáng kiến",
				"c1b2c3d4e5f60718293a4b5c6d7e8f92 " + user + " attachments photo:https://photo-stal-1.zdn.vn/abc.jpg::0 caption=Đèn hỏng trước số 12"}},
		{label: "signature without the mac= prefix", bodies: []string{"text.json"}, sig: sigBare, status: 200,
			events: []string{"a1b2c3d4e5f60718293a4b5c6d7e8f90 " + user + " text Xin chào, tôi muốn gửi sáng kiến"}},
		{label: "signature in upper case", bodies: []string{"location.json"}, sig: sigUpper, status: 200,
			events: []string{"e1b2c3d4e5f60718293a4b5c6d7e8f94 " + user + " location 21.028511,105.854167 Hồ Hoàn Kiếm"}},
		{label: "wrong signature", bodies: []string{"text.json", "follow.json"}, sig: sigWrong, status: 401},
		{label: "signed for another app", bodies: []string{"text.json"}, sig: sigOtherApp, status: 401},
		{label: "signature differing in the last digit", bodies: []string{"submit_info.json"}, sig: sigLastByte, status: 401},
		{label: "signature not hex", bodies: []string{"text.json"}, sig: sigGarbage, status: 401},
		{label: "missing signature", bodies: []string{"text.json"}, sig: sigMissing, status: 401},
		{label: "replayed: timestamp three hours old", bodies: []string{"text.json", "follow.json"}, sig: sigRight, now: late, status: 401},
		{label: "timestamp three hours ahead", bodies: []string{"text.json"}, sig: sigRight, now: early, status: 401},
		{label: "handler fails: stored, acknowledged, run later", bodies: []string{"text.json"}, sig: sigRight, fail: errRedisDown, status: 200},
		{label: "official sample's timestamp (read as seconds: year 2461)", bodies: []string{"timestamp_official_sample.json"}, sig: sigRight, status: 400},
		{label: "timestamp past int64 milliseconds' sane range", bodies: []string{"timestamp_overflow.json"}, sig: sigRight, status: 400},
		{label: "staff reply from the OA chat tool", bodies: []string{"oa_send_text_staff.json"}, sig: sigRight, status: 200,
			events: []string{"5cb2c3d4e5f60718293a4b5c6d7e8f97 " + user + " staff Chào chị, phường đã nhận phản ánh về đèn đường."}},
		{label: "staff image from the OA chat tool", bodies: []string{"oa_send_image_staff.json"}, sig: sigRight, status: 200,
			events: []string{"5db2c3d4e5f60718293a4b5c6d7e8f98 " + user + " staff [image]"}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			now := tt.now
			if now == nil {
				now = fixedNow
			}
			rig := newRig(t, now)
			rig.rec.setFail(tt.fail)
			for _, f := range tt.bodies {
				if got := rig.post(t, tt.sig, readTestdata(t, f)); got != tt.status {
					t.Errorf("POST %s: status %d, want %d", f, got, tt.status)
				}
			}
			var events []string
			for _, ev := range rig.rec.got() {
				events = append(events, summary(ev))
			}
			if !reflect.DeepEqual(events, tt.events) {
				t.Errorf("events:\n got %q\nwant %q", events, tt.events)
			}
		})
	}
}

// bodyID is the id the webhook gives an event without a msg_id.
func bodyID(t *testing.T, name string) string {
	t.Helper()
	evs, err := Parse(readTestdata(t, name))
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse %s: %v %v", name, evs, err)
	}
	if !strings.HasPrefix(evs[0].ID, "h") || len(evs[0].ID) != 33 {
		t.Fatalf("%s: id %q is not a body hash", name, evs[0].ID)
	}
	return evs[0].ID
}

func TestWebhookBodies(t *testing.T) {
	big := append([]byte(`{"event_name":"user_send_text","timestamp":"1764316800000","message":{"text":"`), bytes.Repeat([]byte("a"), DefaultMaxBody)...)
	big = append(big, `"}}`...)
	tests := []struct {
		label  string
		body   []byte
		length int64 // ContentLength to claim; -1 for unknown (chunked)
		status int
	}{
		{"oversized, declared", big, int64(len(big)), 413},
		{"oversized, chunked", big, -1, 413},
		{"malformed JSON", []byte(`{"event_name": "user_send_text", "message": {`), -1, 400},
		{"not an object", []byte(`["user_send_text"]`), -1, 400},
		{"id of a wrong type", []byte(`{"event_name":"user_send_text","timestamp":"1764316800000","sender":{"id":true}}`), -1, 400},
		{"no timestamp: refused as undated", []byte(`{"event_name":"user_send_text","sender":{"id":"1"}}`), -1, 400},
		{"timestamp not a number", []byte(`{"event_name":"user_send_text","timestamp":"soon","sender":{"id":"1"}}`), -1, 400},
		{"timestamp negative", []byte(`{"event_name":"user_send_text","timestamp":-1764316800000,"sender":{"id":"1"}}`), -1, 400},
		{"timestamp past int64", []byte(`{"event_name":"user_send_text","timestamp":"99999999999999999999","sender":{"id":"1"}}`), -1, 400},
		{"no event name: acknowledged, unusable", []byte(`{"timestamp":"1764316800000"}`), -1, 200},
		{"no user: acknowledged, unusable", []byte(`{"event_name":"user_send_text","timestamp":"1764316800000","message":{"msg_id":"x","text":"hi"}}`), -1, 200},
		{"user id not digits: acknowledged, unusable", []byte(`{"event_name":"user_send_text","timestamp":"1764316800000","sender":{"id":"12:34"},"message":{"msg_id":"x","text":"hi"}}`), -1, 200},
		{"image without url: acknowledged, unusable", []byte(`{"event_name":"user_send_image","timestamp":"1764316800000","sender":{"id":"12"},"message":{"msg_id":"x","attachments":[{"type":"image","payload":{}}]}}`), -1, 200},
		{"location out of range: acknowledged, unusable", []byte(`{"event_name":"user_send_location","timestamp":"1764316800000","sender":{"id":"12"},"message":{"msg_id":"x","attachments":[{"type":"location","payload":{"coordinates":{"latitude":"121.0","longitude":"105.8"}}}]}}`), -1, 200},
		{"location NaN: acknowledged, unusable", []byte(`{"event_name":"user_send_location","timestamp":"1764316800000","sender":{"id":"12"},"message":{"msg_id":"x","attachments":[{"type":"location","payload":{"coordinates":{"latitude":"NaN","longitude":"105.8"}}}]}}`), -1, 200},
		{"location Inf: acknowledged, unusable", []byte(`{"event_name":"user_send_location","timestamp":"1764316800000","sender":{"id":"12"},"message":{"msg_id":"x","attachments":[{"type":"location","payload":{"coordinates":{"latitude":"21.0","longitude":"Inf"}}}]}}`), -1, 200},
		{"sticker with an odd payload still answered", []byte(`{"event_name":"user_send_sticker","timestamp":"1764316800000","sender":{"id":"12"},"message":{"msg_id":"x","attachments":[{"type":"sticker","payload":"?"}]}}`), -1, 200},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			rig := newRig(t, fixedNow)
			req := httptest.NewRequest(http.MethodPost, "/webhooks/zalo", bytes.NewReader(tt.body))
			req.ContentLength = tt.length
			req.Header.Set(SignatureHeader, zalotest.Sign(zalotest.AppID, tt.body, zalotest.OASecret))
			rw := httptest.NewRecorder()
			rig.wh.ServeHTTP(rw, req)
			if rw.Code != tt.status {
				t.Errorf("status %d, want %d", rw.Code, tt.status)
			}
			wantEvents := 0
			if strings.Contains(tt.label, "still answered") {
				wantEvents = 1
			}
			if n := len(rig.rec.got()); n != wantEvents {
				t.Errorf("%d events handed on, want %d", n, wantEvents)
			}
		})
	}
}

func TestWebhookRefusesOtherMethods(t *testing.T) {
	rig := newRig(t, fixedNow)
	rw := httptest.NewRecorder()
	rig.wh.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, "/webhooks/zalo", nil))
	if rw.Code != http.StatusMethodNotAllowed || rw.Header().Get("Allow") != "POST" {
		t.Errorf("GET: status %d, Allow %q", rw.Code, rw.Header().Get("Allow"))
	}
}

func TestNewWebhookConfig(t *testing.T) {
	bad := []Config{
		{OASecret: "s", Handler: newRecorder(t)},
		{AppID: "1", Handler: newRecorder(t)},
		{AppID: "1", OASecret: "s"},
	}
	for _, cfg := range bad {
		if _, err := NewWebhook(cfg); err == nil {
			t.Errorf("webhook built from %+v", cfg)
		}
	}
	inbox := inboxStore(t, nil).Inbox("zalo", 0)
	bad = append(bad, Config{AppID: "1", OASecret: "s", Handler: newRecorder(t)}) // no inbox
	for _, cfg := range bad[len(bad)-1:] {
		if _, err := NewWebhook(cfg); err == nil {
			t.Errorf("webhook built without an inbox")
		}
	}
	wh, err := NewWebhook(Config{AppID: "1", OASecret: "s", Handler: newRecorder(t), Inbox: inbox})
	if err != nil {
		t.Fatal(err)
	}
	if wh.cfg.MaxBody != DefaultMaxBody || wh.cfg.MaxAge != DefaultMaxAge || wh.cfg.Now == nil {
		t.Errorf("defaults not applied: %+v", wh.cfg)
	}
}

// Logs name events and masked users, never what the citizen wrote or shared.
func TestWebhookLogsNoPersonalData(t *testing.T) {
	rig := newRig(t, fixedNow)
	rig.rec.setFail(errRedisDown)
	for _, f := range []string{"text.json", "submit_info.json", "location.json"} {
		rig.post(t, sigRight, readTestdata(t, f))
	}
	rig.rec.setFail(nil)
	rig.post(t, sigWrong, readTestdata(t, "text.json"))
	rig.post(t, sigRight, readTestdata(t, "oa_send_text.json"))
	logs := rig.log.String()
	for _, secret := range []string{"7392845012349876543", "Xin chào", "Nguyễn", "84912345678", "Hồ Hoàn Kiếm", "21.02", zalotest.OASecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"zl:73***************43", "event=a1b2c3d4e5f60718293a4b5c6d7e8f90", "signature mismatch", "echo oa_send_text"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

// busyEngine waits for the conversation until its context ends, as the engine does
// while another process holds the conversation's lock.
type busyEngine struct{ gaveUp chan error }

func (b busyEngine) Handle(ctx context.Context, _ bot.Event) (bot.Outcome, error) {
	<-ctx.Done()
	b.gaveUp <- ctx.Err()
	return bot.Outcome{}, ctx.Err()
}

// An event the engine cannot run within the deadline is answered in time, and stays
// in the inbox to be run later.
func TestWebhookAnswersWithinItsDeadline(t *testing.T) {
	busy := busyEngine{gaveUp: make(chan error, 1)}
	inbox := inboxStore(t, nil).Inbox("zalo", testPeriod)
	wh, err := NewWebhook(Config{AppID: zalotest.AppID, OASecret: zalotest.OASecret, Handler: busy, Inbox: inbox,
		Now: fixedNow, Deadline: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rig := &webhookRig{wh: wh, inbox: inbox}
	if code := rig.post(t, sigRight, readTestdata(t, "text.json")); code != http.StatusOK {
		t.Errorf("status %d, want 200: the event is stored", code)
	}
	if err := <-busy.gaveUp; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the engine was stopped by %v, want the deadline", err)
	}
	if n := rig.waiting(t); n != 1 {
		t.Errorf("%d events in the inbox, want the one not run", n)
	}
	if def, _ := NewWebhook(Config{AppID: "1", OASecret: "s", Handler: busy, Inbox: inbox}); def.cfg.Deadline != DefaultDeadline {
		t.Errorf("default deadline %v", def.cfg.Deadline)
	}
}
