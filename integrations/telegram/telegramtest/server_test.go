package telegramtest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// The fake refuses what the Bot API refuses, with the Bot API's descriptions.
func TestFakeRefusesWhatTelegramRefuses(t *testing.T) {
	emoji := strings.Repeat("😀", telegramtest.MaxText) // 4,096 characters, 8,192 UTF-16 code units
	tests := []struct {
		name   string
		method string
		params url.Values
		status int
		desc   string
	}{
		{"sendMessage without chat_id", "sendMessage", url.Values{"text": {"Xin chào"}}, 400, "Bad Request: chat_id is empty"},
		{"sendMessage with an empty chat_id", "sendMessage", url.Values{"chat_id": {""}, "text": {"Xin chào"}}, 400, "Bad Request: chat_id is empty"},
		{"sendMessage to chat 0", "sendMessage", url.Values{"chat_id": {"0"}, "text": {"Xin chào"}}, 400, "Bad Request: chat not found"},
		{"sendMessage to no number", "sendMessage", url.Values{"chat_id": {"lan"}, "text": {"Xin chào"}}, 400, "Bad Request: chat not found"},
		{"sendMessage without text", "sendMessage", url.Values{"chat_id": {"42"}}, 400, "Bad Request: message text is empty"},
		{"sendMessage with only spaces", "sendMessage", url.Values{"chat_id": {"42"}, "text": {" \n\t "}}, 400, "Bad Request: message text is empty"},
		{"sendMessage of 4,097 characters", "sendMessage", url.Values{"chat_id": {"42"}, "text": {strings.Repeat("ạ", telegramtest.MaxText+1)}}, 400, "Bad Request: message is too long"},
		{"sendMessage of 4,096 characters", "sendMessage", url.Values{"chat_id": {"42"}, "text": {strings.Repeat("ạ", telegramtest.MaxText)}}, 200, ""},
		{"sendMessage of 4,096 emoji", "sendMessage", url.Values{"chat_id": {"42"}, "text": {emoji}}, 200, ""},
		{"sendMessage of 4,096 characters and spaces around", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"  " + strings.Repeat("a", telegramtest.MaxText) + "\n"}}, 200, ""},
		{"sendMessage to a channel by name", "sendMessage", url.Values{"chat_id": {"@sangkien_news"}, "text": {"Tin mới"}}, 200, ""},
		{"sendChatAction without chat_id", "sendChatAction", url.Values{"action": {"typing"}}, 400, "Bad Request: chat_id is empty"},
		{"sendChatAction to chat 0", "sendChatAction", url.Values{"chat_id": {"0"}, "action": {"typing"}}, 400, "Bad Request: chat not found"},
		{"editMessageReplyMarkup without chat_id", "editMessageReplyMarkup", url.Values{"message_id": {"44"}}, 400, "Bad Request: chat_id is empty"},
		{"editMessageReplyMarkup of an inline message", "editMessageReplyMarkup", url.Values{"inline_message_id": {"im"}}, 200, ""},
		{"sendMessage as a paid broadcast", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"Tin mới"}, "allow_paid_broadcast": {"true"}}, 200, ""},
		{"sendMessage not as a paid broadcast", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"Tin mới"}, "allow_paid_broadcast": {"false"}}, 200, ""},
		{"sendMessage with allow_paid_broadcast not a boolean", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"Tin mới"}, "allow_paid_broadcast": {"yes"}}, 400, "Bad Request: allow_paid_broadcast must be a boolean"},
		{"sendChatAction with allow_paid_broadcast", "sendChatAction", url.Values{"chat_id": {"42"}, "action": {"typing"}, "allow_paid_broadcast": {"true"}}, 400, "Bad Request: allow_paid_broadcast is not a parameter of sendChatAction"},
		{"editMessageReplyMarkup with allow_paid_broadcast", "editMessageReplyMarkup", url.Values{"chat_id": {"42"}, "message_id": {"44"}, "allow_paid_broadcast": {"true"}}, 400, "Bad Request: allow_paid_broadcast is not a parameter of editMessageReplyMarkup"},
	}
	srv := telegramtest.NewServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.PostForm(srv.URL+"/bot"+srv.Token+"/"+tt.method, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				OK          bool   `json:"ok"`
				ErrorCode   int    `json:"error_code"`
				Description string `json:"description"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || body.OK != (tt.status == 200) || body.Description != tt.desc {
				t.Errorf("got %d ok=%t %q, want %d %q", resp.StatusCode, body.OK, body.Description, tt.status, tt.desc)
			}
			if tt.status != 200 && body.ErrorCode != tt.status {
				t.Errorf("error_code %d, want %d", body.ErrorCode, tt.status)
			}
		})
	}
}

// A JSON request is held to the same rules as a form: chat_id may be a JSON number.
func TestFakeReadsJSONRequests(t *testing.T) {
	srv := telegramtest.NewServer(t)
	for body, want := range map[string]int{
		`{"chat_id": 42, "text": "Xin chào"}`: 200,
		`{"chat_id": 0, "text": "Xin chào"}`:  400,
		`{"text": "Xin chào"}`:                400,
		`{"chat_id": 42, "text": ""}`:         400,
	} {
		resp, err := http.Post(srv.URL+"/bot"+srv.Token+"/sendMessage", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", body, resp.StatusCode, want)
		}
	}
}

// Beyond LimitSends' count in its period, sendMessage is answered 429 in Telegram's
// shape, with retry_after in whole seconds; paid broadcasts count against their own,
// higher limit. The period is an hour, so that no send leaves the window meanwhile.
func TestFakeLimitsSends(t *testing.T) {
	srv := telegramtest.NewServer(t)
	srv.LimitSends(3, time.Hour)
	send := func(chat string, paid bool) (int, string) {
		t.Helper()
		form := url.Values{"chat_id": {chat}, "text": {"Nhắc hạn nộp sáng kiến"}}
		if paid {
			form.Set("allow_paid_broadcast", "true")
		}
		resp, err := http.PostForm(srv.URL+"/bot"+srv.Token+"/sendMessage", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for i := range 3 {
		if status, body := send(fmt.Sprint(100+i), false); status != 200 {
			t.Fatalf("send %d: %d %s", i, status, body)
		}
	}
	status, body := send("200", false)
	want := `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3600","parameters":{"retry_after":3600}}`
	if status != http.StatusTooManyRequests || body != want {
		t.Errorf("the fourth send: %d %s, want 429 %s", status, body, want)
	}
	for i := range 5 {
		if status, body := send(fmt.Sprint(300+i), true); status != 200 {
			t.Errorf("paid send %d: %d %s", i, status, body)
		}
	}
	var limited []string
	for _, r := range srv.Calls("sendMessage") {
		if r.Limited {
			limited = append(limited, r.Params["chat_id"])
			if r.RetryAfter != 3600 {
				t.Errorf("the limited call's retry_after: %d, want 3600", r.RetryAfter)
			}
		}
		if r.At.IsZero() {
			t.Errorf("call to %s has no time", r.Params["chat_id"])
		}
	}
	if !slices.Equal(limited, []string{"200"}) {
		t.Errorf("limited calls: %v, want the one to 200", limited)
	}
	srv.LimitSends(0, 0)
	if status, body := send("201", false); status != 200 {
		t.Errorf("after the limit is lifted: %d %s", status, body)
	}
}

// HoldChat holds one chat's calls until released while the others are answered, and
// GarbleChat answers one chat's calls with a body that is not JSON.
func TestFakeHoldsAndGarblesOneChat(t *testing.T) {
	srv := telegramtest.NewServer(t)
	release := srv.HoldChat("42")
	srv.GarbleChat("43", "<html>502 Bad Gateway</html>")
	send := func(chat string) (int, string) {
		resp, err := http.PostForm(fmt.Sprintf(srv.URL+"/bot%s/sendMessage", srv.Token), url.Values{"chat_id": {chat}, "text": {"Xin chào"}})
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	held := make(chan int, 1)
	go func() { code, _ := send("42"); held <- code }()
	srv.Wait("sendMessage", 1)
	if code, body := send("44"); code != 200 || !strings.Contains(body, `"ok":true`) {
		t.Errorf("another chat while 42 is held: %d %s", code, body)
	}
	if code, body := send("43"); code != 200 || json.Valid([]byte(body)) {
		t.Errorf("the garbled chat: %d %q, want 200 and no JSON", code, body)
	}
	select {
	case code := <-held:
		t.Fatalf("the held chat was answered (%d) before its release", code)
	default:
	}
	release()
	if code := <-held; code != 200 {
		t.Errorf("the held chat once released: %d", code)
	}
}

// A webhook's answer is run as Telegram runs it: a named method is a call of the bot's,
// refused as the call would be, and an answer with no method or no body is no call.
func TestFakeRunsWebhookAnswers(t *testing.T) {
	s := telegramtest.NewServer(t)
	jsonType := http.Header{"Content-Type": {"application/json"}}
	if err := s.WebhookAnswer(200, jsonType, []byte(`{"method":"answerCallbackQuery","callback_query_id":"q1"}`)); err != nil {
		t.Fatal(err)
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if err := s.WebhookAnswer(200, form, []byte("method=sendMessage&chat_id=42&text=hi")); err != nil {
		t.Fatal(err)
	}
	if err := s.WebhookAnswer(200, form, []byte("method=sendMessage&chat_id=42")); err == nil {
		t.Error("a sendMessage with no text named in an answer was taken")
	}
	if err := s.WebhookAnswer(200, jsonType, []byte(`{"method":"sendCarrierPigeon"}`)); err == nil {
		t.Error("an unknown method named in an answer was taken")
	}
	if err := s.WebhookAnswer(200, jsonType, []byte(`{"callback_query_id":"q2"}`)); err == nil {
		t.Error("an answer naming no method was taken")
	}
	for _, empty := range [][]byte{nil, []byte("\n")} {
		if err := s.WebhookAnswer(200, http.Header{}, empty); err != nil {
			t.Errorf("empty answer: %v", err)
		}
	}
	if err := s.WebhookAnswer(500, jsonType, []byte(`{"method":"answerCallbackQuery","callback_query_id":"q3"}`)); err != nil {
		t.Errorf("a 500's body: %v", err)
	}
	got := s.Requests()
	if len(got) != 4 || got[0].Method != "answerCallbackQuery" || got[0].Params["callback_query_id"] != "q1" || !got[0].Webhook ||
		got[1].Method != "sendMessage" || got[1].Params["text"] != "hi" || got[1].Params["method"] != "" {
		t.Errorf("recorded %+v", got)
	}
}

// OnCall is told of each call with its parameters; Keep bounds what Requests keeps to
// the newest calls.
func TestFakeTellsOfCallsAndKeepsTheNewest(t *testing.T) {
	s := telegramtest.NewServer(t)
	s.Keep = 3
	var mu sync.Mutex
	var told []string
	s.OnCall = func(r *http.Request, call telegramtest.Request) {
		mu.Lock()
		defer mu.Unlock()
		told = append(told, call.Method+" "+call.Params["text"])
	}
	for i := range 10 {
		body := strings.NewReader(fmt.Sprintf(`{"chat_id":42,"text":"m%d"}`, i))
		resp, err := http.Post(s.URL+"/bot"+telegramtest.Token+"/sendMessage", "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 10 || told[0] != "sendMessage m0" || told[9] != "sendMessage m9" {
		t.Errorf("told %q", told)
	}
	got := s.Requests()
	if len(got) < 3 || len(got) >= 6 || got[len(got)-1].Params["text"] != "m9" {
		t.Errorf("kept %d calls (last %q), want the newest 3 to 5", len(got), got[len(got)-1].Params["text"])
	}
}
