package webchat

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// reply0 is what the flows say first; its choices are buttons in the browser.
var reply0 = bot.Reply{Text: "Bạn muốn làm gì?", Choices: []bot.Choice{
	{Label: "💡 Gửi sáng kiến", Payload: "menu:initiative"}, {Label: "💬 Góp ý", Payload: "menu:feedback"}}}

func (h *harness) send(conv, id string, r bot.Reply) {
	h.t.Helper()
	o := bot.Outbound{ID: id, Conversation: bot.ConversationRef{Channel: bot.Web, ID: conv}, Lang: "vi", Reply: r}
	if err := h.sender.Send(context.Background(), o); err != nil {
		h.t.Fatal(err)
	}
}

func TestEventStreamResumesWithoutLossOrRepeat(t *testing.T) {
	h := newHarness(t, nil)
	a := h.open("")
	h.send(a.Conversation, "e1/0", reply0)
	h.send(a.Conversation, "e2/0", bot.Reply{Text: "Chương trình nào?", Request: bot.RequestLocation})
	h.send(a.Conversation, "e2/0", bot.Reply{Text: "Chương trình nào?"}) // the queue sent it again
	h.send(a.Conversation, "e3/0", bot.Reply{Text: "Cảm ơn bạn!", Request: bot.RequestContact})

	res := h.do("GET", "/webchat/api/events", "", "Authorization", "Bearer "+a.Token)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	all := readEvents(t, res.Body)
	if len(all) != 3 {
		t.Fatalf("got %d events, want 3 (the repeat kept once): %+v", len(all), all)
	}
	var first struct {
		Text    string       `json:"text"`
		Choices []bot.Choice `json:"choices"`
	}
	if err := json.Unmarshal([]byte(all[0].Data), &first); err != nil || first.Text != reply0.Text || len(first.Choices) != 2 ||
		first.Choices[0] != reply0.Choices[0] {
		t.Fatalf("first event %s: want the menu and its two choices", all[0].Data)
	}
	if want := `{"text":"Chương trình nào?","choices":[],"request":"location"}`; all[1].Data != want {
		t.Fatalf("second event %s, want %s", all[1].Data, want)
	}
	if want := `{"text":"Cảm ơn bạn!","choices":[]}`; all[2].Data != want {
		t.Fatalf("third event %s, want %s (no contact request on a page)", all[2].Data, want)
	}

	// The connection dropped after the first event: the browser comes back with its id.
	h.send(a.Conversation, "e4/0", bot.Reply{Text: "Mới"})
	res = h.do("GET", "/webchat/api/events?token="+a.Token, "", "Last-Event-ID", all[0].ID)
	rest := readEvents(t, res.Body)
	if len(rest) != 3 || rest[0].ID != all[1].ID || rest[1].ID != all[2].ID || !strings.Contains(rest[2].Data, "Mới") {
		t.Fatalf("resumed after %s: got %+v, want the 2nd, 3rd and the new one", all[0].ID, rest)
	}
	// A page that opens a new EventSource says where it was with ?after=.
	res = h.do("GET", "/webchat/api/events?token="+a.Token+"&after="+rest[2].ID, "")
	if none := readEvents(t, res.Body); len(none) != 0 {
		t.Fatalf("after the last event: got %+v, want nothing", none)
	}
}

func TestEventStreamNeedsItsToken(t *testing.T) {
	h := newHarness(t, nil)
	a := h.open("")
	b := h.open("")
	h.send(a.Conversation, "e1/0", bot.Reply{Text: "chỉ cho a"})
	for _, tc := range []struct {
		name, path string
		headers    []string
		want       int
	}{
		{"no token", "/webchat/api/events", nil, 401},
		{"wrong token", "/webchat/api/events?token=" + a.Token + "x", nil, 401},
		{"bad Last-Event-ID", "/webchat/api/events", []string{"Authorization", "Bearer " + a.Token, "Last-Event-ID", "1-2; DROP"}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := h.do("GET", tc.path, "", tc.headers...); res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
		})
	}
	// b's token reads b's stream only.
	res := h.do("GET", "/webchat/api/events", "", "Authorization", "Bearer "+b.Token)
	if got := readEvents(t, res.Body); len(got) != 0 {
		t.Fatalf("b read %+v from a's conversation", got)
	}
	h.clock.Add(2 * time.Hour)
	if res := h.do("GET", "/webchat/api/events", "", "Authorization", "Bearer "+a.Token); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("expired token: status %d, want 401", res.StatusCode)
	}
}

func TestEventStreamEndsWhenTheGatewayStops(t *testing.T) {
	done := make(chan struct{})
	h := newHarness(t, func(c *Config) { c.StreamFor = time.Hour; c.Done = done })
	a := h.open("")
	res := h.do("GET", "/webchat/api/events", "", "Authorization", "Bearer "+a.Token)
	h.send(a.Conversation, "e1/0", bot.Reply{Text: "trước khi dừng"})
	close(done)
	if got := readEvents(t, res.Body); len(got) > 1 {
		t.Fatalf("got %+v", got)
	}
}

func TestSenderRefusesOtherChannels(t *testing.T) {
	h := newHarness(t, nil)
	err := h.sender.Send(context.Background(), bot.Outbound{ID: "x/0", Conversation: bot.ConversationRef{Channel: bot.Zalo, ID: "1"}})
	var se *bot.SendError
	if !errors.As(err, &se) || se.Failure != bot.Permanent {
		t.Fatalf("err %v, want a permanent SendError", err)
	}
}

// The gateway's server has a ReadTimeout (30 s): a stream outlives it (net/http clears
// the read deadline once the request is read).
func TestEventStreamOutlivesTheReadTimeout(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.StreamFor = 700 * time.Millisecond })
	h.srv.Close()
	mux := http.NewServeMux()
	s, _ := NewServer(h.cfg)
	s.Mount(mux)
	h.srv = httptest.NewUnstartedServer(mux)
	h.srv.Config.ReadTimeout = 100 * time.Millisecond
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	a := h.open("")
	res := h.do("GET", "/webchat/api/events", "", "Authorization", "Bearer "+a.Token)
	time.Sleep(300 * time.Millisecond) // past the read deadline
	h.send(a.Conversation, "late/0", bot.Reply{Text: "đến sau"})
	if got := readEvents(t, res.Body); len(got) != 1 || !strings.Contains(got[0].Data, "đến sau") {
		t.Fatalf("got %+v, want the reply sent after the read timeout", got)
	}
}
