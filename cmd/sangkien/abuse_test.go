package main

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// TestUnauthenticatedWebhookLimited: behind a trusted proxy, a client that keeps
// sending the Telegram webhook a wrong secret is answered 429 past WEBHOOK_AUTH_LIMIT,
// counted on /metrics and not logged each time, while Telegram's correctly signed
// update from the same address is taken.
func TestUnauthenticatedWebhookLimited(t *testing.T) {
	api := telegramtest.NewServer(t)
	env := newTestEnv(t).set(telegramVars(api)...).set("WEBHOOK_AUTH_LIMIT", "3/1h", "TRUSTED_PROXIES", "127.0.0.1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done, logs := startServeLogged(t, ctx, env)
	post := func(secret string, body []byte) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/telegram", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	id := 900
	c := tgCitizen{chat: 55601, lang: "vi", nextID: &id}
	var codes []int
	for range 5 {
		codes = append(codes, post("guessed", c.text("xin chào")))
	}
	if want := []int{401, 401, 401, 429, 429}; !slices.Equal(codes, want) {
		t.Fatalf("wrong secrets answered %v, want %v", codes, want)
	}
	if code := post(tgSecret, c.text("/start")); code != http.StatusOK {
		t.Fatalf("a correctly signed update from the limited address: %d, want 200", code)
	}
	waitMetrics(t, "http://"+addr+"/metrics", "the refusals", []string{
		`sangkien_unauthenticated_requests_total{code="401",endpoint="telegram"} 3`,
		`sangkien_unauthenticated_requests_total{code="429",endpoint="telegram"} 2`,
		`sangkien_webhook_requests_total{channel="telegram",code="429"} 2`,
	})
	if n := strings.Count(logs.String(), "secret mismatch"); n > 1 {
		t.Errorf("%d log lines for the refusals, want at most the channel's one alarm:\n%s", n, logs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
