package webchat

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// clock is a test's settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is a web chat server on a real engine and a real Redis.
type harness struct {
	t       *testing.T
	srv     *httptest.Server
	ran     *bottest.Recording
	store   *redisstore.Store
	replies *redisstore.WebReplies
	sender  *Sender
	clock   *clock
	cfg     Config
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	store := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t), Logger: slog.New(slog.DiscardHandler)})
	h := &harness{t: t, ran: &bottest.Recording{}, store: store, replies: store.WebReplies(StreamMax, time.Hour),
		clock: &clock{t: time.Now()}}
	cfg := Config{Handler: bottest.NewEngine(t, h.ran), Replies: h.replies, Limiter: store.Delivery(), Files: store.WebFiles(),
		Key: []byte("0123456789abcdef0123456789abcdef"), TokenTTL: time.Hour, Origins: []string{"https://portal.example.vn"},
		Catalog: bottest.Catalog(t), Now: h.clock.Now, Poll: 20 * time.Millisecond, StreamFor: 300 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	h.cfg = cfg
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Mount(mux)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	h.sender = &Sender{Replies: h.replies}
	return h
}

// do sends a request; headers are name, value pairs.
func (h *harness) do(method, path, body string, headers ...string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { res.Body.Close() })
	return res
}

// open opens a conversation and returns its answer.
func (h *harness) open(body string) conversationAnswer {
	h.t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	res := h.do("POST", "/webchat/api/conversations", body, "Content-Type", ct)
	if res.StatusCode != http.StatusCreated {
		h.t.Fatalf("open: status %d, want 201", res.StatusCode)
	}
	var a conversationAnswer
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		h.t.Fatal(err)
	}
	return a
}

// post posts a message body with token tok and returns the status.
func (h *harness) post(tok, body string) int {
	h.t.Helper()
	return h.do("POST", "/webchat/api/messages", body, "Content-Type", "application/json", "Authorization", "Bearer "+tok).StatusCode
}

// eventsOf returns the web chat events the engine ran, of conversation conv.
func (h *harness) eventsOf(conv string) []bot.Event {
	var out []bot.Event
	for _, ev := range h.ran.Events() {
		if ev.Conversation == (bot.ConversationRef{Channel: bot.Web, ID: conv}) {
			out = append(out, ev)
		}
	}
	return out
}

// sse is one server-sent event.
type sse struct{ ID, Data string }

// readEvents reads a whole event stream (the harness's streams end after StreamFor).
func readEvents(t *testing.T, body io.Reader) []sse {
	t.Helper()
	var out []sse
	var cur sse
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.Data != "" {
				out = append(out, cur)
			}
			cur = sse{}
		case strings.HasPrefix(line, "id: "):
			cur.ID = line[4:]
		case strings.HasPrefix(line, "data: "):
			cur.Data = line[6:]
		}
	}
	return out
}
