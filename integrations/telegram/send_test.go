package telegram

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

func outbound(r bot.Reply) bot.Outbound {
	return bot.Outbound{ID: "700000001/0", Conversation: lan, Lang: "vi", Reply: r}
}

// markupOf decodes a sendMessage's reply_markup.
func markupOf(t *testing.T, req telegramtest.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(req.Params["reply_markup"]), &m); err != nil {
		t.Fatalf("reply_markup %q: %v", req.Params["reply_markup"], err)
	}
	return m
}

func ch(label, payload string) bot.Choice { return bot.Choice{Label: label, Payload: payload} }

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSendRendering(t *testing.T) {
	tests := []struct {
		name   string
		lang   string
		reply  bot.Reply
		markup string // reply_markup as JSON, keys sorted
	}{
		{"plain text removes a request keyboard shown before", "vi", bot.Reply{Text: "Cảm ơn bạn <3 & chúc một ngày tốt lành"},
			`{"remove_keyboard":true}`},
		{"short choices two to a row", "vi", bot.Reply{Text: "Chọn", Choices: []bot.Choice{ch("Có", "yes"), ch("Không", "no"), ch("Bỏ qua", "skip")}},
			`{"inline_keyboard":[[{"callback_data":"yes","text":"Có"},{"callback_data":"no","text":"Không"}],[{"callback_data":"skip","text":"Bỏ qua"}]]}`},
		{"long choices one to a row", "vi", bot.Reply{Text: "Chọn chương trình", Choices: []bot.Choice{ch("Hà Nội xanh hơn 2025", "prog:green"), ch("Giao thông an toàn", "prog:traffic")}},
			`{"inline_keyboard":[[{"callback_data":"prog:green","text":"Hà Nội xanh hơn 2025"}],[{"callback_data":"prog:traffic","text":"Giao thông an toàn"}]]}`},
		{"contact request: one-time reply keyboard", "vi", bot.Reply{Text: "Số điện thoại?", Request: bot.RequestContact, Choices: []bot.Choice{ch("Bỏ qua", "skip")}},
			`{"keyboard":[[{"request_contact":true,"text":"📱 Gửi số điện thoại của tôi"}],[{"text":"Bỏ qua"}]],"one_time_keyboard":true,"resize_keyboard":true}`},
		{"location request in English", "en-GB", bot.Reply{Text: "Where?", Request: bot.RequestLocation},
			`{"keyboard":[[{"request_location":true,"text":"📍 Share my location"}]],"one_time_keyboard":true,"resize_keyboard":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newTestClient(t, nil)
			o := outbound(tt.reply)
			o.Lang = tt.lang
			if err := c.Send(context.Background(), o); err != nil {
				t.Fatalf("Send: %v", err)
			}
			sent := api.Calls("sendMessage")
			if len(sent) != 1 {
				t.Fatalf("sendMessage calls: %d", len(sent))
			}
			p := sent[0].Params
			if p["chat_id"] != "987654321" || p["text"] != tt.reply.Text {
				t.Errorf("chat %q text %q", p["chat_id"], p["text"])
			}
			if p["parse_mode"] != "" {
				t.Errorf("parse_mode %q: plain text needs none", p["parse_mode"])
			}
			if got := jsonOf(markupOf(t, sent[0])); got != tt.markup {
				t.Errorf("reply_markup\n got %s\nwant %s", got, tt.markup)
			}
		})
	}
}

func TestSendSplitsLongText(t *testing.T) {
	c, api := newTestClient(t, nil)
	para := strings.Repeat("Người dân đề xuất trồng thêm cây xanh. ", 60) // ~2,400 characters
	text := strings.TrimSpace(para) + "\n\n" + strings.TrimSpace(para) + "\n\n" + "Cuối cùng."
	r := bot.Reply{Text: text, Choices: []bot.Choice{ch("OK", "ok")}}
	if err := c.Send(context.Background(), outbound(r)); err != nil {
		t.Fatal(err)
	}
	sent := api.Calls("sendMessage")
	if len(sent) != 2 {
		t.Fatalf("parts: %d, want 2", len(sent))
	}
	var joined []string
	for i, req := range sent {
		if n := bot.UTF16Len(req.Params["text"]); n > maxText {
			t.Errorf("part %d: %d characters", i, n)
		}
		_, hasMarkup := req.Params["reply_markup"]
		if hasMarkup != (i == len(sent)-1) {
			t.Errorf("part %d carries markup: %t", i, hasMarkup)
		}
		joined = append(joined, req.Params["text"])
	}
	if strings.Join(joined, "\n\n") != text {
		t.Error("parts do not join back to the text")
	}
}

// Whatever the text, every part the sender makes is one the Bot API takes: the fake
// refuses what Telegram refuses (empty, over 4,096 characters), and Send fails on any
// refusal. The parts hold the whole text.
func TestSendLongTextsTelegramTakes(t *testing.T) {
	sentence := "Người dân đề xuất trồng thêm cây xanh trên phố Trần Hưng Đạo. "
	tests := map[string]string{
		"exactly the limit":              strings.Repeat("a", maxText),
		"one over the limit":             strings.Repeat("a", maxText+1),
		"one word three times too long":  strings.Repeat("x", 3*maxText),
		"emoji, two UTF-16 units each":   strings.Repeat("🌳", 5000),
		"Vietnamese sentences":           strings.Repeat(sentence, 300),
		"paragraphs and blank lines":     strings.Repeat(sentence+"\n\n\n", 200),
		"spaces at a cut":                strings.Repeat("a", maxText-1) + strings.Repeat(" ", 10) + "b",
		"combining marks":                strings.Repeat("a\u0301", 3000),
		"emoji straddling the limit":     strings.Repeat("a", maxText-1) + "🌳🌳",
		"a short text with a newline":    "Cảm ơn bạn!\n",
		"one character after the spaces": strings.Repeat(" ", maxText+5) + "a",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			c, api := newTestClient(t, nil)
			if err := c.Send(context.Background(), outbound(bot.Reply{Text: text})); err != nil {
				t.Fatalf("Send: %v", err)
			}
			var joined strings.Builder
			for _, req := range api.Calls("sendMessage") {
				joined.WriteString(req.Params["text"])
			}
			if strip(joined.String()) != strip(text) {
				t.Error("the parts do not hold the whole text")
			}
		})
	}
}

// strip drops white space, which splitting may move or drop at a cut.
func strip(s string) string {
	return strings.Join(strings.Fields(s), "")
}

func TestSendRefusesBadReplies(t *testing.T) {
	tests := []struct {
		name string
		o    bot.Outbound
	}{
		{"payload over 64 bytes", outbound(bot.Reply{Text: "x", Choices: []bot.Choice{ch("A", strings.Repeat("p", 65))}})},
		{"empty payload", outbound(bot.Reply{Text: "x", Choices: []bot.Choice{ch("A", "")}})},
		{"empty text", outbound(bot.Reply{Text: "  "})},
		{"unknown request", outbound(bot.Reply{Text: "x", Request: "email"})},
		{"not a telegram chat", bot.Outbound{ID: "1/0", Conversation: bot.ConversationRef{Channel: bot.Zalo, ID: "123"}, Reply: bot.Reply{Text: "x"}}},
		{"not a chat id", bot.Outbound{ID: "1/0", Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: "abc"}, Reply: bot.Reply{Text: "x"}}},
		{"chat id 0", bot.Outbound{ID: "1/0", Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: "0"}, Reply: bot.Reply{Text: "x"}}},
		{"no chat id", bot.Outbound{ID: "1/0", Conversation: bot.ConversationRef{Channel: bot.Telegram}, Reply: bot.Reply{Text: "x"}}},
	}
	c, api := newTestClient(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Send(context.Background(), tt.o)
			var se *bot.SendError
			if !errors.As(err, &se) || se.Failure != bot.Permanent {
				t.Errorf("Send: %v, want a permanent SendError", err)
			}
		})
	}
	if n := len(api.Calls("sendMessage")); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		failure    bot.SendFailure
		retryAfter time.Duration
		detail     string
	}{
		{"429 waits retry_after", 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`,
			bot.RateLimited, 3 * time.Second, "Too Many Requests: retry after 3"},
		{"429 without parameters", 429, `{"ok":false,"error_code":429,"description":"Too Many Requests"}`, bot.RateLimited, time.Second, "Too Many Requests"},
		{"429 unreadable", 429, `<html>slow down</html>`, bot.RateLimited, time.Second, "rate limited"},
		{"403 blocked", 403, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`, bot.Gone, 0, "Forbidden: bot was blocked by the user"},
		{"403 deactivated", 403, `{"ok":false,"error_code":403,"description":"Forbidden: user is deactivated"}`, bot.Gone, 0, "Forbidden: user is deactivated"},
		{"403 kicked", 403, `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the group chat"}`, bot.Gone, 0, "Forbidden: bot was kicked from the group chat"},
		{"403 other", 403, `{"ok":false,"error_code":403,"description":"Forbidden: not enough rights to send text messages to the chat"}`, bot.Permanent, 0, "Forbidden: not enough rights to send text messages to the chat"},
		{"400 chat not found", 400, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, bot.Permanent, 0, "Bad Request: chat not found"},
		{"400 other", 400, `{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities"}`, bot.Permanent, 0, "Bad Request: can't parse entities"},
		{"404 unreadable", 404, `not found`, bot.Permanent, 0, "request refused"},
		{"500", 500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`, bot.Retryable, 0, "Internal Server Error"},
		{"502 from a proxy", 502, `<html><body>Bad Gateway</body></html>`, bot.Retryable, 0, "server error"},
		{"200 unreadable", 200, `{"ok":tru`, bot.Retryable, 0, "unreadable answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logBuffer{}
			c, api := newTestClient(t, logs.Logger())
			api.Fail("sendMessage", tt.status, tt.body)
			err := c.Send(context.Background(), outbound(bot.Reply{Text: "Xin chào"}))
			var se *bot.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send: %v, want a SendError", err)
			}
			if se.Failure != tt.failure || se.RetryAfter != tt.retryAfter || se.Detail != tt.detail {
				t.Errorf("got %s / %s / %q, want %s / %s / %q", se.Failure, se.RetryAfter, se.Detail, tt.failure, tt.retryAfter, tt.detail)
			}
			if se.Code != tt.status {
				t.Errorf("code %d, want %d", se.Code, tt.status)
			}
			assertNoToken(t, err.Error(), logs.String())
			// The failure was one answer: the next send goes through (5xx, then success).
			if err := c.Send(context.Background(), outbound(bot.Reply{Text: "Xin chào"})); err != nil {
				t.Errorf("second Send: %v", err)
			}
		})
	}
}

func TestSendNetworkErrors(t *testing.T) {
	t.Run("closed server", func(t *testing.T) {
		logs := &logBuffer{}
		c, api := newTestClient(t, logs.Logger())
		api.Close()
		err := c.Send(context.Background(), outbound(bot.Reply{Text: "Xin chào"}))
		var se *bot.SendError
		if !errors.As(err, &se) || se.Failure != bot.Retryable || se.Code != 0 {
			t.Fatalf("Send: %v, want retryable", err)
		}
		if !strings.Contains(err.Error(), "<token>") {
			t.Errorf("error %q does not show where the token was", err)
		}
		assertNoToken(t, err.Error(), logs.String())
	})
	t.Run("slow API past the deadline", func(t *testing.T) {
		logs := &logBuffer{}
		c, api := newTestClient(t, logs.Logger())
		api.SetDelay(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := c.Send(ctx, outbound(bot.Reply{Text: "Xin chào"}))
		var se *bot.SendError
		if !errors.As(err, &se) || se.Failure != bot.Retryable {
			t.Fatalf("Send: %v, want retryable", err)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Send: %v does not say the deadline passed", err)
		}
		assertNoToken(t, err.Error(), logs.String())
		api.SetDelay(0)
	})
}

func TestTokenScrubbedFromErrors(t *testing.T) {
	c := &Client{token: telegramtest.Token}
	tests := []error{
		errors.New("weird failure at /bot" + telegramtest.Token + "/sendMessage"),
		scrubbedError{msg: "ctx /bot" + telegramtest.Token, cause: context.Canceled},
		wrapErr{"canceled: " + telegramtest.Token, context.Canceled},
		wrapErr{"deadline: " + telegramtest.Token, context.DeadlineExceeded},
	}
	for _, err := range tests {
		got := c.scrubErr(err)
		assertNoToken(t, got.Error(), "")
		for _, target := range []error{context.Canceled, context.DeadlineExceeded} {
			if errors.Is(err, target) != errors.Is(got, target) {
				t.Errorf("scrubbing %q lost %v", err, target)
			}
		}
	}
	if c.scrubErr(nil) != nil {
		t.Error("nil error scrubbed to non-nil")
	}
}

type wrapErr struct {
	msg   string
	cause error
}

func (e wrapErr) Error() string { return e.msg }
func (e wrapErr) Unwrap() error { return e.cause }

func assertNoToken(t *testing.T, texts ...string) {
	t.Helper()
	secretPart := telegramtest.Token[strings.Index(telegramtest.Token, ":")+1:]
	for _, s := range texts {
		if strings.Contains(s, secretPart) {
			t.Errorf("token found in %q", s)
		}
	}
}

func TestNewClient(t *testing.T) {
	api := telegramtest.NewServer(t)
	tests := []struct {
		name     string
		token    string
		endpoint string
		failure  bot.SendFailure
		invalid  bool // refused before any call
	}{
		{"no token", "", api.Endpoint(), 0, true},
		{"endpoint without verbs", api.Token, api.URL, 0, true},
		{"wrong token", "999:WRONG-token-value", api.Endpoint(), bot.Permanent, false},
		{"unreachable", api.Token, "http://127.0.0.1:1/bot%s/%s", bot.Retryable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient(tt.token, tt.endpoint, nil, bottest.Catalog(t), nil)
			if err == nil {
				t.Fatal("NewClient succeeded")
			}
			var se *bot.SendError
			if errors.As(err, &se) == tt.invalid || !tt.invalid && se.Failure != tt.failure {
				t.Errorf("NewClient: %v", err)
			}
			assertNoToken(t, err.Error())
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Errorf("token in %q", err)
			}
		})
	}
	if _, err := NewClient(api.Token, api.Endpoint(), nil, nil, nil); err == nil {
		t.Error("NewClient without a catalog succeeded")
	}
	c, err := NewClient(api.Token, api.Endpoint(), http.DefaultClient, bottest.Catalog(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Username() != telegramtest.Username {
		t.Errorf("Username %q", c.Username())
	}
}

// A client that pays for broadcasts sends a broadcast's messages, every part of a long
// one, with allow_paid_broadcast, and a reply without it; a client that does not pay
// sends neither with it. The fake refuses the parameter where the method has none.
func TestSendPaidBroadcast(t *testing.T) {
	long := strings.Repeat("Chương trình nhận sáng kiến đến hết tháng. ", 120) // two messages
	tests := []struct {
		name      string
		paid      bool
		broadcast string
		text      string
		want      string // allow_paid_broadcast of every sendMessage; "" when absent
	}{
		{"a paid broadcast", true, "bc-1", "📣 Nhắc hạn nộp sáng kiến", "true"},
		{"a long paid broadcast", true, "bc-1", long, "true"},
		{"a reply while broadcasts are paid", true, "", "Cảm ơn bạn", ""},
		{"a broadcast not paid for", false, "bc-1", "📣 Nhắc hạn nộp sáng kiến", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newTestClient(t, nil)
			c.paidBroadcast = tt.paid
			o := outbound(bot.Reply{Text: tt.text, Choices: []bot.Choice{ch("Tiếp tục", "continue")}})
			o.Broadcast = tt.broadcast
			if err := c.Send(context.Background(), o); err != nil {
				t.Fatalf("Send: %v", err)
			}
			sent := api.Calls("sendMessage")
			if len(sent) == 0 {
				t.Fatal("nothing sent")
			}
			for i, req := range sent {
				got, given := req.Params["allow_paid_broadcast"]
				if got != tt.want || given != (tt.want != "") {
					t.Errorf("part %d: allow_paid_broadcast %q (given %t), want %q", i, got, given, tt.want)
				}
			}
			if got := jsonOf(markupOf(t, sent[len(sent)-1])); !strings.Contains(got, `"callback_data":"continue"`) {
				t.Errorf("the last part's keyboard: %s", got)
			}
		})
	}
}
