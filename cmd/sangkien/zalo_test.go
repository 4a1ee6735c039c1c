package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

// zlCitizen builds the events one Zalo citizen causes, in Zalo's JSON shapes.
type zlCitizen struct {
	user string
	n    *int
}

// event is one webhook body; ids and timestamps are strings, as Zalo sends them.
func (c zlCitizen) event(name string, fields map[string]any) []byte {
	*c.n++
	ev := map[string]any{
		"app_id": zalotest.AppID, "user_id_by_app": "552177279717587730", "event_name": name,
		"timestamp": fmt.Sprint(time.Now().UnixMilli() + int64(*c.n)),
		"sender":    map[string]any{"id": c.user}, "recipient": map[string]any{"id": "388613280878808645"},
	}
	for k, v := range fields {
		ev[k] = v
	}
	b, _ := json.Marshal(ev)
	return b
}

func (c zlCitizen) msgID() string { return fmt.Sprintf("%032x", *c.n+1) }

func (c zlCitizen) text(s string) []byte {
	return c.event("user_send_text", map[string]any{"message": map[string]any{"msg_id": c.msgID(), "text": s}})
}

func (c zlCitizen) follow() []byte {
	return c.event("follow", map[string]any{"follower": map[string]any{"id": c.user}, "oa_id": "388613280878808645", "source": "oa_profile"})
}

func (c zlCitizen) location(lat, lon string) []byte {
	return c.event("user_send_location", map[string]any{"message": map[string]any{"msg_id": c.msgID(), "attachments": []any{
		map[string]any{"type": "location", "payload": map[string]any{"coordinates": map[string]any{"latitude": lat, "longitude": lon}}},
	}}})
}

func (c zlCitizen) submitInfo(name, phone string) []byte {
	return c.event("user_submit_info", map[string]any{"info": map[string]any{"name": name, "phone": phone, "address": "12 Hàng Bài"}})
}

func postZalo(t *testing.T, addr string, body []byte, signature string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/zalo", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-ZEvent-Signature", signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestZaloProposalEndToEnd: a citizen follows the OA and proposes an initiative in
// Vietnamese through Zalo webhooks alone, answering choices by number and by label
// typed without diacritics, sharing a location and the Zalo information form. Every
// event arrives twice, as Zalo's retries deliver it; the access token expires midway.
// The submission reaches the intake file once; the fake API receives each reply once,
// in order, drawn with its choices numbered; one token refresh happens.
func TestZaloProposalEndToEnd(t *testing.T) {
	api := zalotest.NewServer(t)
	env := newTestEnv(t).set(
		"ZALO_APP_ID", zalotest.AppID,
		"ZALO_APP_SECRET", zalotest.AppSecret,
		"ZALO_OA_SECRET", zalotest.OASecret,
		"ZALO_ACCESS_TOKEN", zalotest.AccessToken,
		"ZALO_REFRESH_TOKEN", zalotest.RefreshToken,
		"ZALO_API_BASE", api.URL,
		"ZALO_OAUTH_BASE", api.URL,
		"ZALO_CHAT_INTERVAL", "5ms",
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done := startServe(t, ctx, env)

	n := 0
	lan := zlCitizen{user: "7392845012349876543", n: &n}
	steps := [][]byte{
		lan.follow(),              // welcome and menu
		lan.text("gui sang kien"), // "💡 Gửi sáng kiến" without diacritics: the privacy notice
		lan.text("dong y"),        // "✅ Đồng ý": the programs
		lan.text("1"),             // the first program, by number
		lan.text("1"),             // its first field
		lan.text("Ứng dụng báo hỏng đèn đường"),
		lan.text("Hiện nay người dân muốn báo đèn đường hỏng thì phải gọi điện cho phường, nhiều khi không ai nghe máy."),
		lan.text("xong"), // "✅ Xong"
		lan.text("Đèn được sửa nhanh hơn, đường phố an toàn hơn."),
		lan.location("21.028511", "105.854167"),
		lan.text("bo qua"), // "⏭ Bỏ qua": no photos
		lan.text("Nguyễn Thị Lan"),
		lan.submitInfo("Nguyễn Thị Lan", "84912345678"), // the phone from Zalo's form
		lan.text("bo qua"),                              // no email: the review
		lan.text("gui sang kien"),                       // "📨 Gửi sáng kiến" at the review
	}
	for i, body := range steps {
		if i == 6 {
			api.Wait(1)
			api.ExpireAccess() // Zalo voids the token: a later send refreshes it
		}
		sig := zalotest.Sign(zalotest.AppID, body, zalotest.OASecret)
		for range 2 { // Zalo retries: every event arrives twice
			if got := postZalo(t, addr, body, sig); got != http.StatusOK {
				t.Fatalf("step %d: webhook answered %d", i, got)
			}
		}
	}
	// A tampered event is refused and runs nothing.
	forged := lan.text("huy")
	if got := postZalo(t, addr, forged, zalotest.Sign(zalotest.AppID, forged, "guessed-secret")); got != http.StatusUnauthorized {
		t.Errorf("forged event answered %d, want 401", got)
	}

	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: env["REDIS_PREFIX"]})
	conv := bot.ConversationRef{Channel: bot.Zalo, ID: lan.user}
	want, got := waitDelivered(t, st, conv, func() []string { return api.Sent(lan.user) })
	if len(got) != len(want) || len(want) < 15 {
		t.Fatalf("the API got %d messages, the transcript has %d replies:\n got %q\nwant %q", len(got), len(want), got, want)
	}
	for i := range got {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("message %d = %q, want the reply %q", i, got[i], want[i])
		}
	}
	if !strings.Contains(got[0], "\n1. 💡 Gửi sáng kiến\n2. ") {
		t.Errorf("the menu is not a numbered list: %q", got[0])
	}
	if last := got[len(got)-1]; !strings.Contains(last, "SK-") {
		t.Errorf("the conversation did not end with a reference code: %q", last)
	}
	if r := api.Refreshes(); len(r) != 1 || !r[0].OK {
		t.Errorf("token refreshes: %+v, want one", r)
	}

	waitForFile(t, env["INTAKE_FILE"], 1)
	recs := readSubmissions(t, env["INTAKE_FILE"])
	if len(recs) != 1 {
		t.Fatalf("intake file holds %d submissions, want 1", len(recs))
	}
	r := recs[0]
	if r.Title != "Ứng dụng báo hỏng đèn đường" || r.Lang != "vi" || r.Contact.Phone != "+84912345678" ||
		r.Contact.Name != "Nguyễn Thị Lan" || r.Location == nil || r.Conversation.Channel != bot.Zalo {
		t.Errorf("submission lacks its answers: %+v", r.Submission)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// Zalo's configuration errors name the variable to fix.
func TestZaloConfig(t *testing.T) {
	base := newTestEnv(t)
	full := base.set("ZALO_APP_ID", zalotest.AppID, "ZALO_APP_SECRET", "s", "ZALO_OA_SECRET", "o")
	tests := []struct {
		name string
		env  testEnv
		want string // in the error; "" for none
	}{
		{"off", base, ""},
		{"on", full, ""},
		{"on with a token pair", full.set("ZALO_ACCESS_TOKEN", "a", "ZALO_REFRESH_TOKEN", "r"), ""},
		{"app id without OA secret", base.set("ZALO_APP_ID", "1", "ZALO_APP_SECRET", "s"), "ZALO_OA_SECRET"},
		{"OA secret without app id", base.set("ZALO_OA_SECRET", "o"), "ZALO_APP_ID"},
		{"tokens without the channel", base.set("ZALO_REFRESH_TOKEN", "r"), "ZALO_APP_ID"},
		{"app id not numeric", full.set("ZALO_APP_ID", "my-app"), "ZALO_APP_ID"},
		{"no app secret", full.set("ZALO_APP_SECRET", ""), "ZALO_APP_SECRET"},
		{"half a token pair", full.set("ZALO_ACCESS_TOKEN", "a"), "ZALO_REFRESH_TOKEN"},
		{"API base not a URL", full.set("ZALO_API_BASE", "openapi.zalo.me"), "ZALO_API_BASE"},
		{"OAuth base not a URL", full.set("ZALO_OAUTH_BASE", "ftp://x"), "ZALO_OAUTH_BASE"},
		{"chat interval", full.set("ZALO_CHAT_INTERVAL", "soon"), "ZALO_CHAT_INTERVAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(tt.env.get)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("loadConfig: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("loadConfig: %v, want an error naming %s", err, tt.want)
			case tt.want == "" && cfg.Zalo.APIBase != "https://openapi.zalo.me":
				t.Errorf("ZALO_API_BASE default = %q", cfg.Zalo.APIBase)
			}
		})
	}
}

// Without a token pair anywhere the gateway refuses to start: every reply would wait.
func TestZaloNeedsATokenPair(t *testing.T) {
	api := zalotest.NewServer(t)
	env := newTestEnv(t).set("ZALO_APP_ID", zalotest.AppID, "ZALO_APP_SECRET", zalotest.AppSecret,
		"ZALO_OA_SECRET", zalotest.OASecret, "ZALO_API_BASE", api.URL, "ZALO_OAUTH_BASE", api.URL)
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve"}, env.get, strings.NewReader(""), &stderr, &stderr)
	if err == nil || !strings.Contains(err.Error(), "ZALO_REFRESH_TOKEN") {
		t.Errorf("serve: %v, want an error naming ZALO_REFRESH_TOKEN", err)
	}
}
