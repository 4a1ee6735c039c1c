package zalo

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

const (
	lanPhone   = "84912345678"
	reminderID = "7895417a7d3f9461cd2e"
)

// reminderTemplate is the approved template the ZNS tests send.
var reminderTemplate = zalotest.Template{ID: reminderID, Params: []string{"customer_name", "program", "deadline"}}

func reminderData() map[string]string {
	return map[string]string{"customer_name": "Nguyễn Thị Lan", "program": "Hà Nội xanh 2026", "deadline": "15/12/2026"}
}

// newZNSClient is newTestClient with the reminder template approved on the fake.
func newZNSClient(t *testing.T) (*Client, *zalotest.Server) {
	t.Helper()
	c, api, _ := newTestClient(t, freshToken(), nil)
	api.AddTemplate(reminderTemplate)
	return c, api
}

// A ZNS message goes to the phone with the template's data, the access token in its
// header, and the body has the fields of Zalo's own example, no more.
func TestSendTemplate(t *testing.T) {
	c, api := newZNSClient(t)
	track := TrackingID("bc:b1:zalo:" + userID)
	if err := c.SendTemplate(context.Background(), lanPhone, reminderID, reminderData(), track); err != nil {
		t.Fatal(err)
	}
	got := api.ZNSSent(lanPhone)
	if len(got) != 1 {
		t.Fatalf("%d ZNS messages delivered, want 1: %+v", len(got), api.ZNSMessages())
	}
	m := got[0]
	if m.TemplateID != reminderID || !maps.Equal(m.Data, reminderData()) || m.TrackingID != track || m.AccessToken != zalotest.AccessToken {
		t.Errorf("delivered %+v", m)
	}
	if len(track) > 48 || strings.Contains(track, userID) {
		t.Errorf("tracking id %q: too long or names the conversation", track)
	}
	if TrackingID("bc:b1:zalo:"+userID) != track || TrackingID("bc:b2:zalo:"+userID) == track {
		t.Error("tracking ids are not one per outbound id")
	}

	var want, sent map[string]any
	if err := json.Unmarshal(readTestdata(t, "zns_request.json"), &want); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(znsRequest{Phone: lanPhone, TemplateID: reminderID, TemplateData: reminderData(), TrackingID: track})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sent); err != nil {
		t.Fatal(err)
	}
	if k1, k2 := slices.Sorted(maps.Keys(sent)), slices.Sorted(maps.Keys(want)); !slices.Equal(k1, k2) {
		t.Errorf("request fields %v, Zalo's example has %v", k1, k2)
	}
}

// A token Zalo refuses (-124 in the ZNS table) is refreshed and the message sent once
// with the new one.
func TestSendTemplateRefreshesARefusedToken(t *testing.T) {
	c, api := newZNSClient(t)
	api.ExpireAccess()
	if err := c.SendTemplate(context.Background(), lanPhone, reminderID, reminderData(), "t1"); err != nil {
		t.Fatal(err)
	}
	msgs := api.ZNSMessages()
	if len(msgs) != 2 || msgs[0].Error != -124 || msgs[1].Error != 0 || msgs[1].AccessToken == zalotest.AccessToken {
		t.Errorf("ZNS requests %+v, want one refused -124 then one sent with a new token", msgs)
	}
	if r := api.Refreshes(); len(r) != 1 || !r[0].OK {
		t.Errorf("refreshes %+v, want one", r)
	}
}

// Each refusal means what Zalo's table says: the fake's own refusals and Zalo's
// recorded answers.
func TestSendTemplateFailures(t *testing.T) {
	night := time.Date(2025, 11, 28, 23, 30, 0, 0, vietnam)
	tests := []struct {
		name     string
		phone    string
		template string
		data     map[string]string
		at       time.Time // the clock of both (zero: the afternoon of fixedNow)
		script   string    // a testdata answer the fake gives instead of its own
		status   int
		failure  bot.SendFailure
		code     int
		after    time.Duration
		noSend   bool // refused before any request
	}{
		{name: "phone in 0 form", phone: "0912345678", failure: bot.Permanent, noSend: true},
		{name: "phone in E.164 form", phone: "+84912345678", failure: bot.Permanent, noSend: true},
		{name: "phone too short", phone: "8491234567", failure: bot.Permanent, noSend: true},
		{name: "no data", data: map[string]string{}, failure: bot.Permanent, noSend: true},
		{name: "unknown template", template: "0000", failure: bot.Permanent, code: -109},
		{name: "a parameter missing", data: map[string]string{"customer_name": "Lan", "program": "Hà Nội xanh"}, failure: bot.Permanent, code: -112},
		{name: "a parameter too many", data: map[string]string{"customer_name": "Lan", "program": "X", "deadline": "15/12/2026", "ward": "Hoàn Kiếm"},
			failure: bot.Permanent, code: -112},
		{name: "a parameter empty", data: map[string]string{"customer_name": "", "program": "X", "deadline": "15/12/2026"}, failure: bot.Permanent, code: -112},
		{name: "at night: held until six", at: night, failure: bot.Held, code: -133, after: 6*time.Hour + 30*time.Minute},
		{name: "recorded night answer", script: "zns_night.json", at: night, failure: bot.Held, code: -133, after: 6*time.Hour + 30*time.Minute},
		{name: "recorded phone refusal", script: "zns_phone_invalid.json", failure: bot.Permanent, code: -108},
		{name: "recorded template not approved", script: "zns_template_not_approved.json", failure: bot.Permanent, code: -131},
		{name: "recorded quota used up", script: "zns_out_of_quota.json", failure: bot.Held, code: -115, after: quotaWait},
		{name: "recorded refusal of the citizen: not gone", script: "zns_user_refused.json", failure: bot.Permanent, code: -141},
		{name: "daily limit: held until midnight", script: `{"error":-144,"message":"OA has exceeded the daily ZNS limit"}`,
			failure: bot.Held, code: -144, after: 8*time.Hour + 59*time.Minute},
		{name: "app not allowed ZNS", script: `{"error":-135,"message":"OA has no permission to send ZNS"}`, failure: bot.Held, code: -135, after: configWait},
		{name: "Zalo's own error", script: `{"error":-100,"message":"Unknown error"}`, failure: bot.Retryable, code: -100},
		{name: "a proxy's 502", script: "bad gateway", status: http.StatusBadGateway, failure: bot.Retryable, code: 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newZNSClient(t)
			if !tt.at.IsZero() {
				at := tt.at
				c.now = func() time.Time { return at }
				api.SetClock(c.now)
			}
			phone, template, data := lanPhone, reminderID, reminderData()
			if tt.phone != "" {
				phone = tt.phone
			}
			if tt.template != "" {
				template = tt.template
			}
			if tt.data != nil {
				data = tt.data
			}
			if tt.script != "" {
				body, status := tt.script, tt.status
				if strings.HasSuffix(body, ".json") {
					body = string(readTestdata(t, body))
				}
				if status == 0 {
					status = http.StatusOK
				}
				api.FailZNSHTTP(status, body)
			}
			err := c.SendTemplate(context.Background(), phone, template, data, "t1")
			var se *bot.SendError
			if !errors.As(err, &se) {
				t.Fatalf("SendTemplate: %v, want a SendError", err)
			}
			if se.Failure != tt.failure || se.Code != tt.code || se.RetryAfter != tt.after {
				t.Errorf("failure %s code %d after %s, want %s code %d after %s (%v)",
					se.Failure, se.Code, se.RetryAfter, tt.failure, tt.code, tt.after, err)
			}
			if n := len(api.ZNSMessages()); tt.noSend && n != 0 {
				t.Errorf("%d requests made for a message refused before sending", n)
			}
			if n := len(api.ZNSSent(phone)); n != 0 {
				t.Errorf("%d delivered", n)
			}
		})
	}
}

// A program's template Zalo refuses is said once at ERROR, however many citizens'
// messages meet it, and once more when a ZNS message goes again.
func TestSendTemplateRefusalIsSaidOnce(t *testing.T) {
	logs := &logBuffer{}
	c, api, _ := newTestClient(t, freshToken(), logs.Logger())
	api.AddTemplate(zalotest.Template{ID: "pending", Params: reminderTemplate.Params, Pending: true})
	api.AddTemplate(reminderTemplate)
	for _, p := range []string{"84912345678", "84912345679", "84912345670"} {
		if err := c.SendTemplate(context.Background(), p, "pending", reminderData(), "t"); err == nil {
			t.Fatal("a pending template was sent")
		}
	}
	out := logs.String()
	if n := strings.Count(out, "level=ERROR"); n != 1 || !strings.Contains(out, "template=pending") || !strings.Contains(out, "code=-131") {
		t.Errorf("%d ERROR lines for three refused messages, want 1 naming the template and code:\n%s", n, out)
	}
	if err := c.SendTemplate(context.Background(), lanPhone, reminderID, reminderData(), "t"); err != nil {
		t.Fatal(err)
	}
	out = logs.String()
	if !strings.Contains(out, "ZNS templates again") || !strings.Contains(out, "occurrences=3") {
		t.Errorf("no recovery line with the count:\n%s", out)
	}
	for _, secret := range []string{"8491234567", "Nguyễn", zalotest.AccessToken} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
}

func TestUntilMidnight(t *testing.T) {
	for now, want := range map[time.Time]time.Duration{
		time.Date(2025, 11, 28, 15, 1, 0, 0, vietnam):        8*time.Hour + 59*time.Minute,
		time.Date(2025, 11, 28, 0, 0, 0, 0, vietnam):         24 * time.Hour,
		time.Date(2025, 11, 28, 23, 59, 0, 0, vietnam).UTC(): time.Minute,
		time.Date(2025, 12, 31, 23, 0, 0, 0, vietnam):        time.Hour,
	} {
		if got := untilMidnight(now); got != want {
			t.Errorf("untilMidnight(%s) = %s, want %s", now, got, want)
		}
	}
}

// An Outbound that carries a ZNS message goes through ZNS, not as a consultation
// message, with the tracking id of its outbound id.
func TestSendCarriesZNS(t *testing.T) {
	c, api := newZNSClient(t)
	o := outbound(bot.Reply{Text: "⏰ Sáng kiến của bạn vẫn chưa được gửi."})
	o.ID, o.Broadcast = "bc:b1:zalo:"+userID, "b1"
	o.ZNS = &bot.ZNSMessage{TemplateID: reminderID, Phone: lanPhone, Data: reminderData()}
	if err := c.Send(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := api.ZNSSent(lanPhone); len(got) != 1 || got[0].TrackingID != TrackingID(o.ID) || !maps.Equal(got[0].Data, reminderData()) {
		t.Errorf("ZNS delivered %+v", got)
	}
	if n := len(api.Messages()); n != 0 {
		t.Errorf("%d consultation messages sent besides", n)
	}
	o.ZNS.Phone = "0912345678"
	var se *bot.SendError
	if err := c.Send(context.Background(), o); !errors.As(err, &se) || se.Failure != bot.Permanent || strings.Contains(se.Error(), "0912345678") {
		t.Errorf("a phone in the wrong form: %v, want permanent, naming no phone", err)
	}
}

// Zalo's recorded answer to a consultation message past the interaction window is the
// citizen gone for now: nothing reaches them until they write again.
func TestSendPastTheWindow(t *testing.T) {
	c, api, _ := newTestClient(t, freshToken(), nil)
	api.FailSendHTTP(http.StatusOK, string(readTestdata(t, "cs_window_closed.json")))
	var se *bot.SendError
	if err := c.Send(context.Background(), outbound(bot.Reply{Text: "⏰ Chỉ còn 7 ngày nữa"})); !errors.As(err, &se) ||
		se.Failure != bot.Gone || se.Code != codeNoInteraction {
		t.Errorf("Send: %v, want gone with code %d", err, codeNoInteraction)
	}
}

// Zalo's recorded success answer reads as sent.
func TestSendTemplateReadsZalosAnswer(t *testing.T) {
	c, api := newZNSClient(t)
	api.FailZNSHTTP(http.StatusOK, string(readTestdata(t, "zns_ok.json")))
	if err := c.SendTemplate(context.Background(), lanPhone, reminderID, reminderData(), "t1"); err != nil {
		t.Errorf("Zalo's success answer: %v", err)
	}
}
