package webchat

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

func TestOpenConversationStartsItAndRenewsItsToken(t *testing.T) {
	h := newHarness(t, nil)
	a := h.open("")
	if len(a.Conversation) < 22 || a.Token == "" || !a.Expires.After(h.clock.Now()) {
		t.Fatalf("answer %+v: want a 128-bit id, a token and a later expiry", a)
	}
	evs := h.eventsOf(a.Conversation)
	if len(evs) != 1 || evs[0].Kind != bot.EventCommand || evs[0].Command != "start" || evs[0].Lang != "vi" {
		t.Fatalf("engine ran %+v, want one start command in Vietnamese", evs)
	}
	// The same browser back with its valid token: the same conversation, a fresh token.
	h.clock.Add(10 * time.Minute)
	res := h.do("POST", "/webchat/api/conversations", `{"lang":"en"}`, "Content-Type", "application/json", "Authorization", "Bearer "+a.Token)
	var b conversationAnswer
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&b) != nil {
		t.Fatalf("renew: status %d, want 200", res.StatusCode)
	}
	if b.Conversation != a.Conversation || b.Token == a.Token || !b.Expires.After(a.Expires) {
		t.Fatalf("renewed %+v from %+v: want the same conversation, a new later token", b, a)
	}
	if c, err := (&signer{key: []byte("0123456789abcdef0123456789abcdef"), ttl: time.Hour, now: h.clock.Now}).verify(context.Background(), b.Token); err != nil || c.Lang != "en" {
		t.Fatalf("renewed token: %+v %v, want English", c, err)
	}
	// English from the browser's language when the body does not say.
	res = h.do("POST", "/webchat/api/conversations", "", "Accept-Language", "en-GB,en;q=0.9")
	var e conversationAnswer
	if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&e) != nil {
		t.Fatalf("open in English: status %d", res.StatusCode)
	}
	if evs := h.eventsOf(e.Conversation); len(evs) != 1 || evs[0].Lang != "en" {
		t.Fatalf("engine ran %+v, want the start in English", evs)
	}
	// An expired token opens a new conversation: the old one cannot be read any more.
	h.clock.Add(2 * time.Hour)
	res = h.do("POST", "/webchat/api/conversations", "", "Authorization", "Bearer "+b.Token)
	var f conversationAnswer
	if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&f) != nil || f.Conversation == a.Conversation {
		t.Fatalf("expired token: status %d %+v, want 201 and a new conversation", res.StatusCode, f)
	}
}

func TestMessagesRefuseWhatTheyShould(t *testing.T) {
	h := newHarness(t, nil)
	a := h.open(`{"lang":"vi"}`)
	other := h.open("")
	tampered := a.Token[:len(a.Token)-2] + "xx"
	forged := other.Conversation + a.Token[strings.IndexByte(a.Token, '.'):] // another conversation, a's signature
	for _, tc := range []struct {
		name, ct, auth, body string
		want                 int
	}{
		{"no token", "application/json", "", `{"text":"xin chào"}`, 401},
		{"not bearer", "application/json", "Basic " + a.Token, `{"text":"xin chào"}`, 401},
		{"wrong signature", "application/json", "Bearer " + tampered, `{"text":"xin chào"}`, 401},
		{"another conversation", "application/json", "Bearer " + forged, `{"text":"xin chào"}`, 401},
		{"form", "application/x-www-form-urlencoded", "Bearer " + a.Token, `text=hi`, 415},
		{"multipart", "multipart/form-data; boundary=x", "Bearer " + a.Token, "--x--", 415},
		{"too large", "application/json", "Bearer " + a.Token, `{"text":"` + strings.Repeat("a", MaxBody) + `"}`, 413},
		{"unknown field", "application/json", "Bearer " + a.Token, `{"text":"hi","html":"<b>"}`, 400},
		{"two objects", "application/json", "Bearer " + a.Token, `{"text":"hi"}{"text":"hi"}`, 400},
		{"empty", "application/json", "Bearer " + a.Token, `{}`, 400},
		{"text and payload", "application/json", "Bearer " + a.Token, `{"text":"hi","payload":"menu"}`, 400},
		{"long payload", "application/json", "Bearer " + a.Token, `{"payload":"` + strings.Repeat("p", 65) + `"}`, 400},
		{"bad id", "application/json", "Bearer " + a.Token, `{"id":"a/b","text":"hi"}`, 400},
		{"far location", "application/json", "Bearer " + a.Token, `{"location":{"lat":91,"lon":105}}`, 400},
		{"text", "application/json", "Bearer " + a.Token, `{"text":"Tôi muốn gửi sáng kiến"}`, 202},
		{"payload", "application/json; charset=utf-8", "bearer " + a.Token, `{"payload":"menu:initiative"}`, 202},
		{"location", "application/json", "Bearer " + a.Token, `{"location":{"lat":21.0285,"lon":105.8542}}`, 202},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.do("POST", "/webchat/api/messages", tc.body, "Content-Type", tc.ct, "Authorization", tc.auth)
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			if tc.want == 401 && res.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	evs := h.eventsOf(a.Conversation)
	if len(evs) != 4 || evs[1].Kind != bot.EventText || evs[1].Text != "Tôi muốn gửi sáng kiến" ||
		evs[2].Kind != bot.EventButton || evs[2].Payload != "menu:initiative" ||
		evs[3].Kind != bot.EventLocation || evs[3].Location.Lat != 21.0285 {
		t.Fatalf("engine ran %+v, want start, text, button, location", evs)
	}
	if n := len(h.eventsOf(other.Conversation)); n != 1 {
		t.Fatalf("the other conversation ran %d events, want its start only", n)
	}
	// Expired: the same token an hour and a second later.
	h.clock.Add(time.Hour + time.Second)
	if got := h.post(a.Token, `{"text":"còn đó không?"}`); got != 401 {
		t.Fatalf("expired token: status %d, want 401", got)
	}
}

func TestMessageSentTwiceRunsOnce(t *testing.T) {
	h := newHarness(t, nil)
	a := h.open("")
	for i := 0; i < 2; i++ {
		res := h.do("POST", "/webchat/api/messages", `{"id":"w1","text":"một lần thôi"}`,
			"Content-Type", "application/json", "Authorization", "Bearer "+a.Token)
		var got struct {
			ID        string `json:"id"`
			Duplicate bool   `json:"duplicate"`
		}
		if res.StatusCode != 202 || json.NewDecoder(res.Body).Decode(&got) != nil {
			t.Fatalf("send %d: status %d", i, res.StatusCode)
		}
		if got.ID != "w1" || got.Duplicate != (i == 1) {
			t.Fatalf("send %d: answer %+v", i, got)
		}
	}
	// The same id in another conversation is another message.
	b := h.open("")
	if got := h.post(b.Token, `{"id":"w1","text":"của người khác"}`); got != 202 {
		t.Fatalf("status %d", got)
	}
	if n, m := len(h.eventsOf(a.Conversation)), len(h.eventsOf(b.Conversation)); n != 2 || m != 2 {
		t.Fatalf("conversations ran %d and %d events, want 2 each (start and one message)", n, m)
	}
}

func TestLimits(t *testing.T) {
	h := newHarness(t, nil)
	a := h.open("")
	for i := 0; i < MessagesPerMinute; i++ {
		if got := h.post(a.Token, `{"text":"tin nhắn"}`); got != 202 {
			t.Fatalf("message %d: status %d", i, got)
		}
	}
	res := h.do("POST", "/webchat/api/messages", `{"text":"quá nhiều"}`, "Content-Type", "application/json", "Authorization", "Bearer "+a.Token)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("message over the limit: status %d, Retry-After %q; want 429 with it", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Another conversation from the same address is not held by the first one's limit.
	b := h.open("")
	if got := h.post(b.Token, `{"text":"tôi khác"}`); got != 202 {
		t.Fatalf("other conversation: status %d", got)
	}
	// New conversations per address: 2 opened so far.
	for i := 2; i < NewConversationsPerHour; i++ {
		h.open("")
	}
	res = h.do("POST", "/webchat/api/conversations", "")
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("conversation over the cap: status %d, want 429", res.StatusCode)
	}
}

// capNone is a cap that refuses every new conversation.
type capNone struct{}

func (capNone) Open(context.Context, string) (bool, time.Duration, error) {
	return false, time.Minute, nil
}

func TestCapReplacesTheDefault(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Cap = capNone{} })
	if res := h.do("POST", "/webchat/api/conversations", ""); res.StatusCode != 429 || res.Header.Get("Retry-After") != "60" {
		t.Fatalf("status %d, Retry-After %q; want 429, 60", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t, nil)
	own := h.srv.URL // http://127.0.0.1:port: the gateway's own origin
	for _, tc := range []struct {
		name, method, path, origin string
		want                       int
		allowed                    bool
	}{
		{"preflight from a listed site", "OPTIONS", "/webchat/api/messages", "https://portal.example.vn", 204, true},
		{"preflight from elsewhere", "OPTIONS", "/webchat/api/messages", "https://evil.example", 403, false},
		{"open from a listed site", "POST", "/webchat/api/conversations", "https://portal.example.vn", 201, true},
		{"open from the gateway's page", "POST", "/webchat/api/conversations", own, 201, true},
		{"open from elsewhere", "POST", "/webchat/api/conversations", "https://evil.example", 403, false},
		{"a listed host on plain http", "POST", "/webchat/api/conversations", "http://portal.example.vn", 403, false},
		{"a listed site's subdomain", "POST", "/webchat/api/conversations", "https://x.portal.example.vn", 403, false},
		{"events from elsewhere", "GET", "/webchat/api/events?token=x", "https://evil.example", 403, false},
		{"no origin (not a browser)", "POST", "/webchat/api/conversations", "", 201, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.do(tc.method, tc.path, "", "Origin", tc.origin, "Access-Control-Request-Method", "POST",
				"Access-Control-Request-Headers", "authorization,content-type")
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			acao := res.Header.Get("Access-Control-Allow-Origin")
			if tc.allowed != (acao == tc.origin && acao != "") {
				t.Fatalf("Access-Control-Allow-Origin %q for %q (allowed: %v)", acao, tc.origin, tc.allowed)
			}
			if res.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatal("credentials allowed: the API takes bearer tokens only")
			}
			if tc.method == "OPTIONS" && tc.allowed &&
				!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
				t.Fatalf("preflight allows headers %q, want Authorization", res.Header.Get("Access-Control-Allow-Headers"))
			}
		})
	}
}

// flakyKeys fails until ok is set, as a Redis down at start does.
type flakyKeys struct {
	ok    bool
	calls int
}

func (k *flakyKeys) SharedKey(context.Context, string, int) ([]byte, error) {
	k.calls++
	if !k.ok {
		return nil, errors.New("connection refused")
	}
	return []byte("fedcba9876543210fedcba9876543210"), nil
}

func TestTokenKeyIsLoadedOnceRedisAnswers(t *testing.T) {
	keys := &flakyKeys{}
	h := newHarness(t, func(c *Config) { c.Key, c.Keys = nil, keys })
	if res := h.do("POST", "/webchat/api/conversations", ""); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("no key: status %d, want 503", res.StatusCode)
	}
	keys.ok = true
	a := h.open("")
	if got := h.post(a.Token, `{"text":"đã có khoá"}`); got != 202 {
		t.Fatalf("status %d", got)
	}
	if keys.calls != 2 {
		t.Fatalf("the key was asked for %d times, want 2 (the failure, then once)", keys.calls)
	}
}
