package telegramtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
