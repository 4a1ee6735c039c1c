package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

// TestLogsOfAProposal: serve logs JSON by default. Every line the engine and the flows
// write for a whole proposal, each update delivered twice, names the webhook request it
// served (the proxy's X-Request-Id, or one made up when there is none), and no line
// holds what the citizen wrote, their name, phone or chat id.
func TestLogsOfAProposal(t *testing.T) {
	api := telegramtest.NewServer(t)
	env := newTestEnv(t).set(append(telegramVars(api), "LOG_LEVEL", "debug")...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done, logs := startServeLogged(t, ctx, env)

	next := 700
	lan := tgCitizen{chat: 987654321, lang: "vi", nextID: &next}
	secrets := []string{"Ghế đá công viên Thống Nhất", "Công viên cần thêm ghế đá cho người cao tuổi ngồi nghỉ.",
		"Người già có chỗ nghỉ chân.", "Nguyễn Thị Lan", "Thị Lan", "912345678", "987654321"}
	updates := lan.proposal(secrets[0], secrets[1], secrets[2], secrets[3])
	sent := map[string]bool{}
	for i, u := range updates {
		id := "" // the first update comes without a proxy in front: the gateway makes one up
		if i > 0 {
			id = "turn-" + strings.Repeat("x", i%3) + string(rune('a'+i))
		}
		for range 2 { // Telegram redelivers: the repeat is a request of its own
			got := postWithRequestID(t, api, addr, u, id)
			if id != "" && got != id {
				t.Errorf("update %d answered X-Request-Id %q, want the proxy's %q", i, got, id)
			}
			sent[got] = true
		}
	}
	waitForFile(t, env["INTAKE_FILE"], 1)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}

	named := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not a JSON line: %s", line)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("a line holds the citizen's %q: %s", s, line)
			}
		}
		id, _ := rec["request_id"].(string)
		if c := rec["component"]; (c == "engine" || c == "flows") && id == "" {
			t.Errorf("a line of the turn names no request: %s", line)
		}
		if id != "" && !sent[id] {
			t.Errorf("a line names request %q, never sent: %s", id, line)
		}
		named[id] = true
	}
	for id := range sent {
		if !named[id] {
			t.Errorf("request %q is named by no line", id)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs)
	}
}

// postWithRequestID posts an update to the Telegram webhook with X-Request-Id id (none
// when empty), as postUpdate does, and returns the id the gateway answered with.
func postWithRequestID(t *testing.T, api *telegramtest.Server, addr string, body []byte, id string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/telegram", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", tgSecret)
	if id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := api.WebhookResponse(resp); err != nil {
		t.Error(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("webhook answered %d to %s", resp.StatusCode, body)
	}
	return resp.Header.Get("X-Request-Id")
}

// TestStartUpLines: serve says which channels run, one line each with its mode, bot or
// OA and webhook, and warns when none does; LOG_FORMAT=text writes text.
func TestStartUpLines(t *testing.T) {
	api, zl := telegramtest.NewServer(t), zalotest.NewServer(t)
	withBoth := append(append(telegramVars(api), zaloVars(zl)...), "PUBLIC_BASE_URL", "https://gw.example.vn")
	tests := []struct {
		name string
		env  []string
		want []string // patterns, each matching one line
		not  string
	}{
		{"telegram and zalo", withBoth, []string{
			`{"time":"[^"]+","level":"INFO","msg":"channel started","component":"telegram","mode":"webhook","bot":"@` +
				telegramtest.Username + `","webhook_url":"https://gw.example.vn/webhooks/telegram","registered":true}`,
			`{"time":"[^"]+","level":"INFO","msg":"channel started; register webhook_url for the OA in the Zalo developer console",` +
				`"component":"zalo","mode":"webhook","oa_id":"` + zalotest.OAID + `","app_id":"` + zalotest.AppID + `","webhook_url":"https://gw.example.vn/webhooks/zalo"}`,
		}, `"no channel configured`},
		{"telegram polling, as text", append(telegramVars(api), "TELEGRAM_MODE", "polling", "LOG_FORMAT", "text"), []string{
			`level=INFO msg="channel started" component=telegram mode=polling bot=@` + telegramtest.Username + `$`,
		}, "no channel configured"},
		{"telegram webhook without a public url", telegramVars(api), []string{
			`"msg":"channel started","component":"telegram","mode":"webhook","bot":"@` + telegramtest.Username +
				`","webhook_url":"/webhooks/telegram","registered":false}`,
		}, "no channel configured"},
		{"web chat only, by default", nil, []string{
			`{"time":"[^"]+","level":"INFO","msg":"channel started","component":"webchat","page":"/chat","widget":"/webchat/widget.js","origins":0}`,
		}, "no channel configured"},
		{"no channel", []string{"WEBCHAT_ENABLED", "false"}, []string{
			`{"time":"[^"]+","level":"WARN","msg":"no channel configured: citizens cannot reach this gateway \(set TELEGRAM_BOT_TOKEN or ZALO_APP_ID, or WEBCHAT_ENABLED=true\)"}`,
		}, "channel started"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, done, logs := startServeLogged(t, ctx, newTestEnv(t).set(tt.env...))
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("serve: %v", err)
			}
			checkLines(t, logs, tt.want, tt.not)
		})
	}
}

// checkLines checks that each pattern matches a line of logs and no line holds not.
func checkLines(t *testing.T, logs *bottest.LogBuffer, want []string, not string) {
	t.Helper()
	lines := strings.Split(logs.String(), "\n")
	for _, w := range want {
		re := regexp.MustCompile(w)
		found := false
		for _, l := range lines {
			found = found || re.MatchString(l)
		}
		if !found {
			t.Errorf("no line matches %s", w)
		}
	}
	if strings.Contains(logs.String(), not) {
		t.Errorf("a line holds %q", not)
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs)
	}
}
