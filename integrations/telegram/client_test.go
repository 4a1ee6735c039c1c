package telegram

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

func TestClientCalls(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func(c *Client) error
		method string
		params []map[string]string // of each call of method, in order
	}{
		{"setWebhook with secret", func(c *Client) error {
			return c.SetWebhook(ctx, "https://gw.example/webhooks/telegram", "sec", []string{"message", "callback_query", "my_chat_member"}, 40)
		}, "setWebhook", []map[string]string{{
			"url": "https://gw.example/webhooks/telegram", "secret_token": "sec",
			"allowed_updates": `["message","callback_query","my_chat_member"]`, "max_connections": "40",
		}}},
		{"deleteWebhook", func(c *Client) error { return c.DeleteWebhook(ctx) }, "deleteWebhook", []map[string]string{{}}},
		{"setMyCommands per language", func(c *Client) error {
			return c.SetMyCommands(ctx, map[string][]Command{
				"en": {{"start", "Start"}, {"help", "Help"}},
				"":   {{"start", "Bắt đầu"}, {"help", "Trợ giúp"}},
			})
		}, "setMyCommands", []map[string]string{
			{"commands": `[{"command":"start","description":"Bắt đầu"},{"command":"help","description":"Trợ giúp"}]`},
			{"commands": `[{"command":"start","description":"Start"},{"command":"help","description":"Help"}]`, "language_code": "en"},
		}},
		{"typing", func(c *Client) error { return c.Typing(ctx, 987654321) }, "sendChatAction",
			[]map[string]string{{"chat_id": "987654321", "action": "typing"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newTestClient(t, nil)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			var got []map[string]string
			for _, r := range api.Calls(tt.method) {
				got = append(got, r.Params)
			}
			if !reflect.DeepEqual(got, tt.params) {
				t.Errorf("%s params\n got %v\nwant %v", tt.method, got, tt.params)
			}
		})
	}
}

func TestClientCallFails(t *testing.T) {
	c, api := newTestClient(t, nil)
	api.Fail("setMyCommands", 400, `{"ok":false,"error_code":400,"description":"Bad Request: BOT_COMMAND_INVALID"}`)
	err := c.SetMyCommands(context.Background(), map[string][]Command{"": {{"Start!", "x"}}, "en": {{"start", "x"}}})
	var se *bot.SendError
	if !errors.As(err, &se) || se.Failure != bot.Permanent || !strings.Contains(err.Error(), "setMyCommands") {
		t.Errorf("SetMyCommands: %v", err)
	}
	if n := len(api.Calls("setMyCommands")); n != 1 {
		t.Errorf("setMyCommands went on after a failure: %d calls", n)
	}
	api.Fail("setWebhook", 400, `{"ok":false,"error_code":400,"description":"Bad Request: bad webhook: HTTPS url must be provided for webhook"}`)
	if err := c.SetWebhook(context.Background(), "http://x", "s", nil, 0); err == nil {
		t.Error("SetWebhook: no error")
	}
	if got := api.Calls("setWebhook")[0].Params; !reflect.DeepEqual(got, map[string]string{"url": "http://x", "secret_token": "s"}) {
		t.Errorf("setWebhook params %v", got)
	}
}

func TestGetUpdates(t *testing.T) {
	c, api := newTestClient(t, nil)
	api.QueueUpdate(string(readTestdata(t, "text.json")), string(readTestdata(t, "voice.json")))
	ups, err := c.GetUpdates(context.Background(), 700000002, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 {
		t.Fatalf("updates: %s", dump(ups))
	}
	if id, ok := updateID(ups[0]); !ok || id != 700000020 || !strings.Contains(string(ups[0]), `"voice"`) {
		t.Errorf("updates: %s", dump(ups))
	}
	api.Fail("getUpdates", 409, `{"ok":false,"error_code":409,"description":"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}`)
	var se *bot.SendError
	if _, err := c.GetUpdates(context.Background(), 0, 0); !errors.As(err, &se) || se.Failure != bot.Permanent {
		t.Errorf("GetUpdates with webhook set: %v", err)
	}
	api.Fail("getUpdates", 200, `{"ok":true,"result":{"not":"a list"}}`)
	if _, err := c.GetUpdates(context.Background(), 0, 0); err == nil {
		t.Error("GetUpdates decoded an object as updates")
	}
}

func TestFileURL(t *testing.T) {
	logs := &logBuffer{}
	c, api := newTestClient(t, logs.Logger())
	api.AddFile("AgACAgUAAxkBAAIBp_large", "photos/file_7.jpg", []byte("\xff\xd8jpeg"))
	url, err := c.FileURL(context.Background(), "AgACAgUAAxkBAAIBp_large")
	if err != nil {
		t.Fatal(err)
	}
	if want := api.URL + "/file/bot" + api.Token + "/photos/file_7.jpg"; url != want {
		t.Errorf("FileURL = %q, want %q", url, want)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "\xff\xd8jpeg" {
		t.Errorf("downloaded %q", body)
	}
	if _, err := c.FileURL(context.Background(), "nope"); err == nil {
		t.Error("FileURL of an unknown file: no error")
	}
	api.Fail("getFile", 200, `{"ok":true,"result":{"file_id":"big","file_unique_id":"u","file_size":30000000}}`)
	if _, err := c.FileURL(context.Background(), "big"); err == nil {
		t.Error("FileURL without file_path: no error")
	}
	api.Fail("getFile", 200, `{"ok":true,"result":"nonsense"}`)
	if _, err := c.FileURL(context.Background(), "x"); err == nil {
		t.Error("FileURL of a nonsense answer: no error")
	}
	assertNoToken(t, logs.String())
}

func TestFileEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.telegram.org/bot%s/%s": "https://api.telegram.org/file/bot%s/%s",
		"http://127.0.0.1:8081/tg/bot%s/%s": "http://127.0.0.1:8081/tg/file/bot%s/%s",
		"http://odd/%s/%s":                  "https://api.telegram.org/file/bot%s/%s",
	} {
		if got := fileEndpoint(in); got != want {
			t.Errorf("fileEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

// The fake itself: scripts queue per method, unknown methods and paths answer 404, the
// file server checks the token, and JSON bodies are recorded like forms.
func TestFakeServer(t *testing.T) {
	api := telegramtest.NewServer(t)
	post := func(path, ct, body string) int {
		t.Helper()
		resp, err := http.Post(api.URL+path, ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	api.Script("sendMessage", 2, 500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
	base := "/bot" + api.Token + "/"
	codes := []int{
		post(base+"sendMessage", "application/json", `{"chat_id":42,"text":"a","reply_markup":{"remove_keyboard":true}}`),
		post(base+"sendMessage", "application/json", `{"chat_id":42,"text":"b"}`),
		post(base+"sendMessage", "application/json", `{"chat_id":42,"text":"c"}`),
		post(base+"unknownMethod", "application/x-www-form-urlencoded", ""),
		post("/elsewhere", "text/plain", ""),
		post(base+"sendMessage", "application/json", `{not json`),
	}
	if want := []int{500, 500, 200, 404, 404, 400}; !reflect.DeepEqual(codes, want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
	first := api.Calls("sendMessage")[0].Params
	if first["chat_id"] != "42" || first["text"] != "a" || first["reply_markup"] != `{"remove_keyboard":true}` {
		t.Errorf("JSON params %v", first)
	}
	api.AddFile("f", "docs/a.pdf", []byte("pdf"))
	for path, want := range map[string]int{
		"/file/bot" + api.Token + "/docs/a.pdf": 200,
		"/file/bot" + api.Token + "/docs/b.pdf": 404,
		"/file/botWRONG/docs/a.pdf":             401,
	} {
		resp, err := http.Get(api.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
