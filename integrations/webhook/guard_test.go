package webhook

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/clientaddr"
	"github.com/sangkien/sangkien/envvar"
)

// signedHandler stands for a webhook: 401 without the right secret, else the work.
type signedHandler struct {
	mu     sync.Mutex
	served int
}

func (h *signedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Secret") != "right" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	h.served++
	h.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

type counted struct {
	mu     sync.Mutex
	counts map[string]int // endpoint/limited
}

func (c *counted) count(endpoint string, limited bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := endpoint + "/401"
	if limited {
		k = endpoint + "/429"
	}
	c.counts[k]++
}

func TestGuardLimitsUnauthenticatedRequests(t *testing.T) {
	proxies, err := clientaddr.Parse("172.16.0.0/12")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	c := &counted{counts: map[string]int{}}
	g := NewGuard(GuardConfig{
		Settings: Settings{Limit: envvar.Rate{N: 3, Per: time.Minute}, Proxies: proxies},
		Count:    c.count, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Every: time.Hour, // the test asks for the summary itself
		Now:   func() time.Time { return now },
	})
	h := &signedHandler{}
	srv := g.Wrap("telegram", h)
	send := func(client, secret string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, "/webhooks/telegram", strings.NewReader("{}"))
		r.RemoteAddr = "172.18.0.5:40000" // the compose proxy
		r.Header.Set("X-Forwarded-For", client)
		r.Header.Set("X-Secret", secret)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w
	}
	steps := []struct {
		name, client, secret string
		want                 int
	}{
		{"first failure", "203.0.113.9", "wrong", 401},
		{"second", "203.0.113.9", "wrong", 401},
		{"third, the last the limit allows", "203.0.113.9", "wrong", 401},
		{"fourth: limited", "203.0.113.9", "wrong", 429},
		{"signed, from the limited address", "203.0.113.9", "right", 200},
		{"another address", "198.51.100.7", "wrong", 401},
		{"IPv6, three addresses of one /64", "2001:db8:5:6::1", "wrong", 401},
		{"", "2001:db8:5:6::2", "wrong", 401},
		{"", "2001:db8:5:6:ffff::3", "wrong", 401},
		{"the /64's fourth failure", "2001:db8:5:6::4", "wrong", 429},
		{"the next /64", "2001:db8:5:7::1", "wrong", 401},
	}
	for _, s := range steps {
		w := send(s.client, s.secret)
		if w.Code != s.want {
			t.Fatalf("%s (%s): %d, want %d", s.name, s.client, w.Code, s.want)
		}
		if s.want == 429 {
			if ra := w.Header().Get("Retry-After"); ra == "" || ra == "0" {
				t.Errorf("%s: Retry-After %q", s.name, ra)
			}
			if strings.Contains(w.Body.String(), "unauthorized") {
				t.Errorf("%s: the 401's body was sent after the 429: %q", s.name, w.Body.String())
			}
		}
	}
	if h.served != 1 {
		t.Errorf("the handler did the work %d times, want once (the signed request)", h.served)
	}
	if logs.Len() != 0 {
		t.Errorf("refusals were logged one by one:\n%s", logs.String())
	}
	g.summarize("telegram")
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "refused 10 unauthenticated requests from 4 addresses") ||
		!strings.Contains(lines[0], "answered_429=2") || strings.Contains(lines[0], "203.0.113") {
		t.Errorf("summary:\n%s", logs.String())
	}
	if c.counts["telegram/401"] != 8 || c.counts["telegram/429"] != 2 {
		t.Errorf("counted %v, want 8 answered 401 and 2 answered 429", c.counts)
	}

	// The period over, the address starts afresh.
	now = now.Add(time.Minute)
	if w := send("203.0.113.9", "wrong"); w.Code != 401 {
		t.Errorf("after the period: %d, want 401", w.Code)
	}
}

// A forged X-Forwarded-For from a client that is no trusted proxy buys it nothing: its
// own address is counted.
func TestGuardIgnoresForgedForwardedFor(t *testing.T) {
	g := NewGuard(GuardConfig{Settings: Settings{Limit: envvar.Rate{N: 1, Per: time.Minute}}, Every: time.Hour})
	srv := g.Wrap("zalo", &signedHandler{})
	codes := []int{}
	for i := range 3 {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/zalo", nil)
		r.RemoteAddr = "198.51.100.7:1234"
		r.Header.Set("X-Forwarded-For", "10.0.0."+string(rune('1'+i)))
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		codes = append(codes, w.Code)
	}
	if codes[0] != 401 || codes[1] != 429 || codes[2] != 429 {
		t.Errorf("codes %v, want 401 then 429s", codes)
	}
}
