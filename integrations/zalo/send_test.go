package zalo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

const userID = "7392845012349876543"

var lan = bot.ConversationRef{Channel: bot.Zalo, ID: userID}

func outbound(r bot.Reply) bot.Outbound {
	return bot.Outbound{ID: "a1b2c3/0", Conversation: lan, Lang: "vi", Reply: r}
}

// freshToken is a valid pair with a day to live.
func freshToken() *Token {
	return &Token{Access: zalotest.AccessToken, Refresh: zalotest.RefreshToken, Expires: testNow.Add(24 * time.Hour)}
}

func ch(label, payload string) bot.Choice { return bot.Choice{Label: label, Payload: payload} }

func TestSendRendering(t *testing.T) {
	tests := []struct {
		name  string
		lang  string
		reply bot.Reply
		want  []string
	}{
		{"plain text", "vi", bot.Reply{Text: "Cảm ơn bạn <3 & chúc một ngày tốt lành"},
			[]string{"Cảm ơn bạn <3 & chúc một ngày tốt lành"}},
		{"choices as a numbered list", "vi", bot.Reply{Text: "Bạn muốn làm gì?", Choices: []bot.Choice{ch("💡 Gửi sáng kiến", "cmd:initiative"), ch("💬 Góp ý", "cmd:feedback")}},
			[]string{"Bạn muốn làm gì?\n\n1. 💡 Gửi sáng kiến\n2. 💬 Góp ý"}},
		{"contact request: a line saying to type the number", "vi", bot.Reply{Text: "Số điện thoại?", Request: bot.RequestContact, Choices: []bot.Choice{ch("Bỏ qua", "skip")}},
			[]string{"Số điện thoại?\nTrên Zalo, bạn chỉ cần gõ số điện thoại vào ô chat.\n\n1. Bỏ qua"}},
		{"contact request in English", "en-GB", bot.Reply{Text: "Phone?", Request: bot.RequestContact},
			[]string{"Phone?\nOn Zalo, just type your number in the chat."}},
		{"location request: the flows' text already asks", "vi", bot.Reply{Text: "Ở đâu?", Request: bot.RequestLocation},
			[]string{"Ở đâu?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api, _ := newTestClient(t, freshToken(), nil)
			o := outbound(tt.reply)
			o.Lang = tt.lang
			if err := c.Send(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			got := api.Sent(userID)
			if strings.Join(got, "\n---\n") != strings.Join(tt.want, "\n---\n") {
				t.Errorf("sent\n%q\nwant\n%q", got, tt.want)
			}
			for _, m := range api.Messages() {
				if m.AccessToken != zalotest.AccessToken {
					t.Errorf("sent with access token %q", m.AccessToken)
				}
			}
		})
	}
}

func TestSendSplitsLongText(t *testing.T) {
	para := strings.Repeat("Đèn đường ở phố Hàng Bài hỏng đã lâu. ", 30) // ~1,140 characters
	long := para + "\n\n" + para + "\n\n" + strings.Repeat("x", 2500)
	c, api, _ := newTestClient(t, freshToken(), nil)
	err := c.Send(context.Background(), outbound(bot.Reply{Text: long, Choices: []bot.Choice{ch("Xong", "done")}}))
	if err != nil {
		t.Fatal(err)
	}
	got := api.Sent(userID)
	if len(got) != 4 {
		t.Fatalf("%d parts, want 4: %q", len(got), got)
	}
	for i, p := range got {
		if n := len(utf16.Encode([]rune(p))); n > maxText || n == 0 {
			t.Errorf("part %d has %d UTF-16 units", i, n)
		}
	}
	if got[0] != strings.TrimSpace(para) || got[1] != strings.TrimSpace(para) {
		t.Errorf("paragraphs not kept whole: %q", got[:2])
	}
	if !strings.HasSuffix(got[3], "\n\n1. Xong") || strings.Contains(strings.Join(got[:3], ""), "1. Xong") {
		t.Errorf("the choices are not at the end of the last part")
	}
	noSpace := func(s string) string { return strings.Join(strings.Fields(s), "") }
	if noSpace(strings.Join(got, "")) != noSpace(long+"1. Xong") {
		t.Error("text lost or changed in the split")
	}
}

// Each error the OA API reports is classified as the delivery queue needs it.
func TestSendErrors(t *testing.T) {
	tests := []struct {
		name     string
		script   func(api *zalotest.Server)
		failure  bot.SendFailure // -1: sent
		code     int
		wait     time.Duration
		sends    int // requests the fake saw
		refreshs int
	}{
		{"sent", func(*zalotest.Server) {}, -1, 0, 0, 1, 0},
		{"-32 rate limit: wait", func(s *zalotest.Server) { s.FailSend(-32, "Exceeded rate limit") }, bot.RateLimited, -32, rateLimitWait, 1, 0},
		{"-216 token invalid: refresh and send again", func(s *zalotest.Server) { s.ExpireAccess() }, -1, 0, 0, 2, 1},
		{"-220 token expired: refresh and send again", func(s *zalotest.Server) { s.FailSend(-220, "Access token has expired") }, -1, 0, 0, 2, 1},
		{"-216 again after a refresh: retryable", func(s *zalotest.Server) {
			s.FailSend(-216, "Access token is invalid")
			s.FailSend(-216, "Access token is invalid")
		}, bot.Retryable, -216, 0, 2, 1},
		{"-213 not following: gone", func(s *zalotest.Server) { s.FailSend(-213, "User has not followed OA") }, bot.Gone, -213, 0, 1, 0},
		{"-217 blocked: gone", func(s *zalotest.Server) { s.FailSend(-217, "User has blocked") }, bot.Gone, -217, 0, 1, 0},
		{"-227 inactive: gone", func(s *zalotest.Server) { s.FailSend(-227, "User is inactive") }, bot.Gone, -227, 0, 1, 0},
		{"-230 no interaction for 7 days: gone", func(s *zalotest.Server) { s.FailSend(-230, "User has not interacted with the OA in the past 7 days") }, bot.Gone, -230, 0, 1, 0},
		{"-232 window closed: gone", func(s *zalotest.Server) { s.FailSend(-232, "Interaction has expired") }, bot.Gone, -232, 0, 1, 0},
		{"-244 restricted: gone", func(s *zalotest.Server) { s.FailSend(-244, "User has restricted receiving message") }, bot.Gone, -244, 0, 1, 0},
		// testNow is 15:01 in Hanoi: held until 06:00 tomorrow.
		{"-234 night: held until 06:00 in Hanoi", func(s *zalotest.Server) { s.FailSend(-234, "Cannot send at night") }, bot.Held, -234, 14*time.Hour + 59*time.Minute, 1, 0},
		{"-211 quota: held", func(s *zalotest.Server) { s.FailSend(-211, "Out of quota") }, bot.Held, -211, quotaWait, 1, 0},
		{"-218 receive quota: held", func(s *zalotest.Server) { s.FailSend(-218, "Out of quota receive") }, bot.Held, -218, quotaWait, 1, 0},
		{"-201 invalid: permanent", func(s *zalotest.Server) { s.FailSend(-201, "Parameters are invalid") }, bot.Permanent, -201, 0, 1, 0},
		// Zalo's error table: the app or the OA is set up wrong; the reply waits for a fix.
		{"-209 API not activated for the app: config, held", func(s *zalotest.Server) { s.FailSend(-209, "Not supported this api") }, bot.Held, -209, configWait, 1, 0},
		{"-212 API not registered: config, held", func(s *zalotest.Server) { s.FailSend(-212, "App has not registed this api") }, bot.Held, -212, configWait, 1, 0},
		{"-219 app removed or disabled: config, held", func(s *zalotest.Server) { s.FailSend(-219, "App is removed or disabled") }, bot.Held, -219, configWait, 1, 0},
		{"-221 OA not verified: config, held", func(s *zalotest.Server) { s.FailSend(-221, "The OA needs to be verified to use this feature") }, bot.Held, -221, configWait, 1, 0},
		{"-223 permission not granted: config, held", func(s *zalotest.Server) { s.FailSend(-223, "Official Account has not authorized this API") }, bot.Held, -223, configWait, 1, 0},
		{"-224 OA tier package: config, held", func(s *zalotest.Server) { s.FailSend(-224, "The OA needs to upgrade OA Tier Package") }, bot.Held, -224, configWait, 1, 0},
		{"-240 v2 API shut down: config, held", func(s *zalotest.Server) {
			s.FailSend(-240, "MessageV2 API has been shut down, please switch to MessageV3")
		}, bot.Held, -240, configWait, 1, 0},
		{"-242 appsecret_proof: config, held", func(s *zalotest.Server) { s.FailSend(-242, "Invalid appsecret_proof provided in the API argument") }, bot.Held, -242, configWait, 1, 0},
		{"-320 no Zalo Cloud Account: config, held", func(s *zalotest.Server) { s.FailSend(-320, "Your app needs to connect with Zalo Cloud Account") }, bot.Held, -320, configWait, 1, 0},
		{"-321 Zalo Cloud Account unpaid: quota, held", func(s *zalotest.Server) {
			s.FailSend(-321, "Zalo Cloud Account out of money or unable to be charged")
		}, bot.Held, -321, quotaWait, 1, 0},
		{"-248 content violates standards: permanent for this message", func(s *zalotest.Server) { s.FailSend(-248, "Violates our platform standards") }, bot.Permanent, -248, 0, 1, 0},
		{"unknown code: permanent, code kept", func(s *zalotest.Server) { s.FailSend(-999, "Something new") }, bot.Permanent, -999, 0, 1, 0},
		{"HTTP 502: retryable", func(s *zalotest.Server) { s.FailSendHTTP(502, "<html>bad gateway</html>") }, bot.Retryable, 502, 0, 1, 0},
		{"HTTP 429: rate limited", func(s *zalotest.Server) { s.FailSendHTTP(429, "") }, bot.RateLimited, 429, rateLimitWait, 1, 0},
		{"HTTP 403: permanent", func(s *zalotest.Server) { s.FailSendHTTP(403, "forbidden") }, bot.Permanent, 403, 0, 1, 0},
		{"HTTP 200, not JSON: retryable", func(s *zalotest.Server) { s.FailSendHTTP(200, "<html>maintenance</html>") }, bot.Retryable, 200, 0, 1, 0},
		{"HTTP 200 without an error field: retryable", func(s *zalotest.Server) { s.FailSendHTTP(200, `{"data":{}}`) }, bot.Retryable, 200, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api, _ := newTestClient(t, freshToken(), nil)
			tt.script(api)
			err := c.Send(context.Background(), outbound(bot.Reply{Text: "Xin chào"}))
			if tt.failure == -1 {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
			} else {
				var se *bot.SendError
				if !errors.As(err, &se) {
					t.Fatalf("Send: %v, want a *bot.SendError", err)
				}
				if se.Failure != tt.failure || se.Code != tt.code || se.RetryAfter != tt.wait {
					t.Errorf("got %s code %d wait %s, want %s code %d wait %s", se.Failure, se.Code, se.RetryAfter, tt.failure, tt.code, tt.wait)
				}
			}
			if n := len(api.Messages()); n != tt.sends {
				t.Errorf("%d sends, want %d", n, tt.sends)
			}
			if n := len(api.Refreshes()); n != tt.refreshs {
				t.Errorf("%d refreshes, want %d", n, tt.refreshs)
			}
		})
	}
}

func TestSendNetworkError(t *testing.T) {
	c, api, _ := newTestClient(t, freshToken(), nil)
	api.Close()
	err := c.Send(context.Background(), outbound(bot.Reply{Text: "Xin chào"}))
	var se *bot.SendError
	if !errors.As(err, &se) || se.Failure != bot.Retryable || strings.Contains(err.Error(), api.URL) {
		t.Errorf("Send: %v, want a retryable error without the URL", err)
	}
}

func TestSendRefusesWhatCannotBeSent(t *testing.T) {
	c, api, _ := newTestClient(t, freshToken(), nil)
	for _, o := range []bot.Outbound{
		{ID: "1/0", Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: "123"}, Reply: bot.Reply{Text: "hi"}},
		{ID: "1/1", Conversation: bot.ConversationRef{Channel: bot.Zalo, ID: "12ab"}, Reply: bot.Reply{Text: "hi"}},
		{ID: "1/2", Conversation: lan, Reply: bot.Reply{Text: "  "}},
	} {
		var se *bot.SendError
		if err := c.Send(context.Background(), o); !errors.As(err, &se) || se.Failure != bot.Permanent {
			t.Errorf("Send(%s): %v, want permanent", o.ID, err)
		}
	}
	if n := len(api.Messages()); n != 0 {
		t.Errorf("%d requests made", n)
	}
}

func TestUntilMorning(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, vietnam)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		now  time.Time
		want time.Duration
	}{
		{at("2025-11-28 22:00"), 8 * time.Hour},
		{at("2025-11-28 23:30"), 6*time.Hour + 30*time.Minute},
		{at("2025-11-29 00:00"), 6 * time.Hour},
		{at("2025-11-29 05:59"), time.Minute},
		{at("2025-11-29 06:00"), 24 * time.Hour},
		{at("2025-11-28 22:00").UTC(), 8 * time.Hour}, // the clock's zone does not matter
	}
	for _, tt := range tests {
		if got := untilMorning(tt.now); got != tt.want {
			t.Errorf("untilMorning(%s) = %s, want %s", tt.now, got, tt.want)
		}
	}
}

func TestNewClientConfig(t *testing.T) {
	store := &memTokens{}
	cat := bottest.Catalog(t)
	bad := []ClientConfig{
		{AppSecret: "s", Tokens: store, Catalog: cat},
		{AppID: "1", Tokens: store, Catalog: cat},
		{AppID: "1", AppSecret: "s", Catalog: cat},
		{AppID: "1", AppSecret: "s", Tokens: store},
		{AppID: "1", AppSecret: "s", Tokens: store, Catalog: cat, APIBase: "openapi.zalo.me"},
		{AppID: "1", AppSecret: "s", Tokens: store, Catalog: cat, OAuthBase: "ftp://x"},
	}
	for _, cfg := range bad {
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("client built from %+v", cfg)
		}
	}
	c, err := NewClient(ClientConfig{AppID: "1", AppSecret: "s", Tokens: store, Catalog: cat, APIBase: "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	if c.apiBase != "http://127.0.0.1:1" || c.oauthBase != DefaultOAuthBase || c.refreshAhead != DefaultRefreshAhead || c.hc == nil {
		t.Errorf("defaults not applied: %+v", c)
	}
}

// A configuration error is said once at ERROR, however many citizens' replies meet it,
// and once more when Zalo accepts the app's messages again.
func TestSendConfigErrorIsSaidOnce(t *testing.T) {
	logs := &logBuffer{}
	c, api, _ := newTestClient(t, freshToken(), logs.Logger())
	users := []string{"7392845012349876543", "7392845012349876544", "7392845012349876545"}
	for _, u := range users {
		api.FailSend(-223, "Official Account has not authorized this API")
		o := outbound(bot.Reply{Text: "Xin chào"})
		o.Conversation.ID = u
		var se *bot.SendError
		if err := c.Send(context.Background(), o); !errors.As(err, &se) || se.Failure != bot.Held {
			t.Fatalf("Send: %v, want held", err)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "level=ERROR"); n != 1 || !strings.Contains(out, "code=-223") {
		t.Errorf("%d ERROR lines for three refused replies, want 1 naming the code:\n%s", n, out)
	}
	if err := c.Send(context.Background(), outbound(bot.Reply{Text: "Xin chào"})); err != nil {
		t.Fatal(err)
	}
	out = logs.String()
	if !strings.Contains(out, "accepts the app's messages again") || !strings.Contains(out, "occurrences=3") {
		t.Errorf("no recovery line with the count:\n%s", out)
	}
	for _, u := range users {
		if strings.Contains(out, u) {
			t.Errorf("log names citizen %s:\n%s", u, out)
		}
	}
}

// A broadcast counts the citizens Zalo says it cannot reach as skipped, by why.
func TestGoneSkipReasons(t *testing.T) {
	for code, want := range map[int]string{
		codeNotFollower: bot.SkipUnfollowed, codeBlocked: bot.SkipBlocked, codeInactive: bot.SkipUnfollowed,
		codeNoInteraction: bot.SkipZaloWindow, codeWindowExpired: bot.SkipZaloWindow, codeRestrictedUser: bot.SkipUnfollowed,
	} {
		if se := apiFailure(code, "", testNow); se.Failure != bot.Gone || se.Skip != want {
			t.Errorf("code %d: %s, skip %q; want gone, skip %q", code, se.Failure, se.Skip, want)
		}
	}
}
