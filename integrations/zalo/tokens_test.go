package zalo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

// stored reads the store's pair.
func stored(t *testing.T, c *Client) Token {
	t.Helper()
	tok, err := c.load(context.Background())
	if err != nil || tok == nil {
		t.Fatalf("stored pair: %v %v", tok, err)
	}
	return *tok
}

func TestRefreshAhead(t *testing.T) {
	tests := []struct {
		name       string
		expires    time.Duration // from testNow; 0: unknown
		script     func(*zalotest.Server)
		wantErr    bool // Held
		wantAccess string
		refreshes  int
	}{
		{"a day left: no refresh", 24 * time.Hour, nil, false, "access-0", 0},
		{"expiry unknown: used until refused", 0, nil, false, "access-0", 0},
		{"30 minutes left: refreshed first", 30 * time.Minute, nil, false, "access-1", 1},
		{"expired: refreshed first", -time.Minute, nil, false, "access-1", 1},
		{"expires_in as a number", -time.Minute, (*zalotest.Server).ExpiresAsNumber, false, "access-1", 1},
		{"refresh fails with a token still valid: sent with it", 30 * time.Minute,
			func(s *zalotest.Server) { s.FailRefresh(500, "oops") }, false, "access-0", 1},
		{"refresh fails with the token expired: the reply waits", -time.Minute,
			func(s *zalotest.Server) {
				s.FailRefresh(200, `{"error":-14014,"error_name":"Invalid refresh token","error_description":"used"}`)
			}, true, "", 1},
		{"refresh answers no pair: the reply waits", -time.Minute,
			func(s *zalotest.Server) { s.FailRefresh(200, `{"access_token":"","expires_in":"90000"}`) }, true, "", 1},
		{"refresh answers garbage: the reply waits", -time.Minute,
			func(s *zalotest.Server) { s.FailRefresh(502, `<html>`) }, true, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logBuffer{}
			tok := freshToken()
			tok.Expires = time.Time{}
			if tt.expires != 0 {
				tok.Expires = testNow.Add(tt.expires)
			}
			c, api, _ := newTestClient(t, tok, logs.Logger())
			if tt.script != nil {
				tt.script(api)
			}
			err := c.Send(context.Background(), outbound(bot.Reply{Text: "Xin chào"}))
			var se *bot.SendError
			switch {
			case tt.wantErr && (!errors.As(err, &se) || se.Failure != bot.Held || se.RetryAfter != failPause):
				t.Fatalf("Send: %v, want held for %s", err, failPause)
			case !tt.wantErr && err != nil:
				t.Fatalf("Send: %v", err)
			}
			if n := len(api.Refreshes()); n != tt.refreshes {
				t.Errorf("%d refreshes, want %d", n, tt.refreshes)
			}
			if tt.wantErr {
				if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "ZALO TOKEN REFRESH FAILED") {
					t.Errorf("failed refresh not logged loudly:\n%s", logs)
				}
				return
			}
			msgs := api.Messages()
			if len(msgs) != 1 || msgs[0].AccessToken != tt.wantAccess {
				t.Errorf("sent %+v, want one message with %s", msgs, tt.wantAccess)
			}
			if tt.refreshes == 1 && api.Refreshes()[0].OK {
				got := stored(t, c)
				if got.Access != "access-1" || got.Refresh != "refresh-1" || !got.Expires.Equal(testNow.Add(zalotest.ExpiresIn*time.Second)) {
					t.Errorf("stored %+v", got)
				}
				r := api.Refreshes()[0]
				if r.RefreshToken != zalotest.RefreshToken || r.AppID != zalotest.AppID || r.SecretKey != zalotest.AppSecret || r.GrantType != "refresh_token" {
					t.Errorf("refresh request %+v", r)
				}
			}
			for _, secret := range []string{"access-", "refresh-", zalotest.AppSecret} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("logs hold %q:\n%s", secret, logs)
				}
			}
		})
	}
}

// After a failed refresh the process waits failPause before calling the endpoint again:
// every reply in between waits without a call.
func TestFailedRefreshPauses(t *testing.T) {
	tok := freshToken()
	tok.Expires = testNow.Add(-time.Minute)
	c, api, _ := newTestClient(t, tok, nil)
	api.FailRefresh(500, "oops")
	for range 3 {
		if err := c.Send(context.Background(), outbound(bot.Reply{Text: "Xin chào"})); err == nil {
			t.Fatal("sent with an expired token")
		}
	}
	if n := len(api.Refreshes()); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

func TestNoTokenStored(t *testing.T) {
	c, api, _ := newTestClient(t, nil, nil)
	var se *bot.SendError
	if err := c.Send(context.Background(), outbound(bot.Reply{Text: "Xin chào"})); !errors.As(err, &se) || se.Failure != bot.Held || !errors.Is(err, errNoToken) {
		t.Errorf("Send: %v, want held for lack of a token", err)
	}
	if len(api.Messages())+len(api.Refreshes()) != 0 {
		t.Error("requests made without a token")
	}
}

func TestTokenStoreDown(t *testing.T) {
	c, api, store := newTestClient(t, freshToken(), nil)
	store.fail = errRedisDown
	var se *bot.SendError
	if err := c.Send(context.Background(), outbound(bot.Reply{Text: "Xin chào"})); !errors.As(err, &se) || se.Failure != bot.Held || !errors.Is(err, errRedisDown) {
		t.Errorf("Send: %v, want held while the store is down", err)
	}
	if len(api.Messages()) != 0 {
		t.Error("sent without reading the token")
	}
}

// A pair the store refuses after a refresh (the old refresh token is void by then) is
// kept by this process: the next sends use it rather than the stale stored pair, the
// refresh lock stays taken, the pair is stored in the background as soon as the store
// takes it, and the next refresh trades the NEW refresh token (the fake Zalo refuses the
// old one).
func TestRefreshedPairStoredLate(t *testing.T) {
	tests := []struct {
		name      string
		fails     int  // Set attempts refused
		storeDown bool // reads fail too while the store lags
	}{
		{"the store refuses the pair once", 1, false},
		{"the store refuses the pair four times", 4, false},
		{"the store is down altogether for a while", 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			logs := &logBuffer{}
			tok := freshToken()
			tok.Expires = testNow.Add(-time.Minute)
			c, api, store := newTestClient(t, tok, logs.Logger())
			flaky := &flakySet{memTokens: store, fails: tt.fails, hold: make(chan struct{})}
			c.tokens = flaky
			c.storeBackoff, c.storeBackoffMax = time.Millisecond, 4*time.Millisecond

			// The first send refreshes, and the store refuses the new pair.
			if err := c.Send(ctx, outbound(bot.Reply{Text: "tin 1"})); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if tt.storeDown {
				store.setFail(errRedisDown)
			}
			for _, text := range []string{"tin 2", "tin 3"} {
				if err := c.Send(ctx, outbound(bot.Reply{Text: text})); err != nil {
					t.Fatalf("Send while the store lags: %v", err)
				}
			}
			msgs := api.Messages()
			if len(msgs) != 3 {
				t.Fatalf("sent %+v, want 3 messages", msgs)
			}
			for _, m := range msgs {
				if m.AccessToken != "access-1" || m.Error != 0 {
					t.Errorf("sent %q with %s (error %d), want the new access-1", m.Text, m.AccessToken, m.Error)
				}
			}
			if got := store.stored(t); got.Access != zalotest.AccessToken {
				t.Fatalf("store holds %s before it took a pair", got.Access)
			}
			if !store.locked() {
				t.Error("refresh lock released while the new pair is stored nowhere but here")
			}

			// The store heals: the background stores the pair and releases the lock.
			store.setFail(nil)
			close(flaky.hold)
			c.bg.Wait()
			if got := store.stored(t); got.Access != "access-1" || got.Refresh != "refresh-1" {
				t.Errorf("store holds %+v, want the refreshed pair", got)
			}
			if n := flaky.attempts(); n != tt.fails+1 {
				t.Errorf("%d Set attempts, want %d", n, tt.fails+1)
			}
			if store.locked() {
				t.Error("refresh lock still held after the pair was stored")
			}
			if c.pending() != nil {
				t.Error("unstored pair kept after it was stored")
			}

			// A later refresh trades the new refresh token.
			api.ExpireAccess()
			if err := c.Send(ctx, outbound(bot.Reply{Text: "tin 4"})); err != nil {
				t.Fatalf("Send after Zalo expired the token: %v", err)
			}
			r := api.Refreshes()
			if len(r) != 2 || r[1].RefreshToken != "refresh-1" || !r[1].OK {
				t.Errorf("refreshes %+v, want a second one with refresh-1", r)
			}
			if got := store.stored(t); got.Access != "access-2" || got.Refresh != "refresh-2" {
				t.Errorf("store holds %+v after the second refresh", got)
			}

			out := logs.String()
			if n := strings.Count(out, "level=ERROR"); n != tt.fails {
				t.Errorf("%d errors logged, want one per refused Set (%d):\n%s", n, tt.fails, out)
			}
			if !strings.Contains(out, "ZALO TOKEN PAIR NOT STORED") || !strings.Contains(out, "unstored zalo token pair stored") {
				t.Errorf("the lag and its end are not logged:\n%s", out)
			}
			for _, secret := range []string{"access-", "refresh-", zalotest.AppSecret} {
				if strings.Contains(out, secret) {
					t.Errorf("logs hold %q:\n%s", secret, out)
				}
			}
		})
	}
}

// flakySet is a store whose Set fails the first fails times. Attempts after the first
// (the background's) wait until hold is closed, so that the test sees the store lag.
type flakySet struct {
	*memTokens
	hold  chan struct{}
	mu    sync.Mutex
	fails int
	sets  int
}

func (f *flakySet) Set(ctx context.Context, appID string, pair []byte) error {
	f.mu.Lock()
	f.sets++
	n := f.sets
	f.mu.Unlock()
	if n > 1 {
		<-f.hold
	}
	if n <= f.fails {
		return errRedisDown
	}
	return f.memTokens.Set(ctx, appID, pair)
}

func (f *flakySet) attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sets
}

// Which pair a process sends with while the store lags behind its refresh.
func TestStoredWins(t *testing.T) {
	mine := &unstored{
		tok:  Token{Access: "access-2", Refresh: "refresh-2", Updated: testNow},
		from: "refresh-1",
	}
	tests := []struct {
		name   string
		stored Token
		want   bool
	}{
		{"the store took the pair", mine.tok, true},
		{"the pair it replaced", Token{Access: "access-1", Refresh: "refresh-1", Updated: testNow.Add(-time.Hour)}, false},
		{"the pair it replaced, dated later by a clock running ahead", Token{Access: "access-1", Refresh: "refresh-1", Updated: testNow.Add(5 * time.Minute)}, false},
		{"an older pair", Token{Access: "access-0", Refresh: "refresh-0", Updated: testNow.Add(-2 * time.Hour)}, false},
		{"a pair authorized again by hand since", Token{Access: "access-9", Refresh: "refresh-9", Updated: testNow.Add(time.Hour)}, true},
	}
	for _, tt := range tests {
		if got := storedWins(tt.stored, mine); got != tt.want {
			t.Errorf("%s: storedWins = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	c, api, store := newTestClient(t, nil, nil)
	if ok, err := c.Seed(ctx); ok || err != nil {
		t.Errorf("Seed without a pair = %t, %v", ok, err)
	}
	if ok, err := c.Stored(ctx); ok || err != nil {
		t.Fatalf("Stored = %t, %v before seeding", ok, err)
	}
	c.seed = Token{Access: zalotest.AccessToken, Refresh: zalotest.RefreshToken}
	if ok, err := c.Seed(ctx); !ok || err != nil {
		t.Fatalf("Seed = %t, %v", ok, err)
	}
	c.seed = Token{Access: "other-access", Refresh: "other-refresh"}
	if ok, err := c.Seed(ctx); ok || err != nil {
		t.Errorf("second Seed = %t, %v: the stored pair must win", ok, err)
	}
	got := stored(t, c)
	if got.Access != zalotest.AccessToken || got.Refresh != zalotest.RefreshToken || !got.Expires.IsZero() {
		t.Errorf("stored %+v", got)
	}

	// A store that was empty (down) at start is seeded by the first send.
	store.pair = nil
	c.seed = Token{Access: zalotest.AccessToken, Refresh: zalotest.RefreshToken}
	if err := c.Send(ctx, outbound(bot.Reply{Text: "Xin chào"})); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := stored(t, c); got.Access != zalotest.AccessToken || len(api.Sent(userID)) != 1 {
		t.Errorf("not seeded by the send: %+v", got)
	}
}

// Twenty sends from two gateway processes on one Redis meet an expired token: Zalo's
// OAuth endpoint sees one refresh, and every send goes out with the new token.
func TestOneRefreshAcrossProcesses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(api *zalotest.Server) Token
	}{
		{"expired by the stored expiry", func(*zalotest.Server) Token {
			return Token{Access: zalotest.AccessToken, Refresh: zalotest.RefreshToken, Expires: time.Now().Add(-time.Minute)}
		}},
		{"refused by Zalo (-216) with the expiry unknown", func(api *zalotest.Server) Token {
			api.ExpireAccess()
			return Token{Access: zalotest.AccessToken, Refresh: zalotest.RefreshToken}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := zalotest.NewServer(t)
			// A slow refresh, so that every send piles up behind it.
			api.SetRefreshDelay(100 * time.Millisecond)
			prefix := redistest.Prefix(t)
			var clients []*Client
			for range 2 {
				st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: prefix})
				c, err := NewClient(ClientConfig{
					AppID: zalotest.AppID, AppSecret: zalotest.AppSecret, APIBase: api.URL, OAuthBase: api.URL,
					Tokens: st.ZaloTokens(), Catalog: bottest.Catalog(t), RefreshWait: 10 * time.Second,
				})
				if err != nil {
					t.Fatal(err)
				}
				clients = append(clients, c)
			}
			if err := clients[0].save(t, tt.setup(api)); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for i := range 20 {
				wg.Go(func() {
					o := outbound(bot.Reply{Text: fmt.Sprintf("tin %d", i)})
					errs <- clients[i%2].Send(context.Background(), o)
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("Send: %v", err)
				}
			}
			if r := api.Refreshes(); len(r) != 1 || !r[0].OK {
				t.Errorf("refreshes: %+v, want exactly one", r)
			}
			delivered := 0
			for _, m := range api.Messages() {
				if m.Error == 0 {
					delivered++
					if m.AccessToken != "access-1" {
						t.Errorf("sent with %s", m.AccessToken)
					}
				}
			}
			if delivered != 20 {
				t.Errorf("%d messages delivered, want 20", delivered)
			}
			if got := stored(t, clients[1]); got.Access != "access-1" || got.Refresh != "refresh-1" {
				t.Errorf("stored %+v", got)
			}
		})
	}
}

// A process that finds another's refresh under way waits for it, up to RefreshWait,
// and then makes the reply wait a moment rather than refreshing itself.
func TestWaitForAnotherProcess(t *testing.T) {
	tok := freshToken()
	tok.Expires = testNow.Add(-time.Minute)
	c, api, store := newTestClient(t, tok, nil)
	store.owner = "another process"
	var se *bot.SendError
	err := c.Send(context.Background(), outbound(bot.Reply{Text: "Xin chào"}))
	if !errors.As(err, &se) || se.Failure != bot.Held || se.RetryAfter != 2*time.Second || !errors.Is(err, errRefreshing) {
		t.Errorf("Send: %v, want a short hold", err)
	}
	if n := len(api.Refreshes()); n != 0 {
		t.Errorf("%d refreshes while another process held the lock", n)
	}
}
