package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

// testEnv is an environment for run: a real Redis (REDIS_URL, or the local default
// that redistest found answering), a key prefix of the test's own, and an intake file in
// the test's temporary folder. Tests override or add variables with set.
type testEnv map[string]string

func newTestEnv(t testing.TB) testEnv {
	t.Helper()
	redistest.Client(t) // fails the test, saying to run make test, when no Redis answers
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379"
	}
	return testEnv{
		"REDIS_URL":    url,
		"REDIS_PREFIX": redistest.Prefix(t),
		"INTAKE_FILE":  filepath.Join(t.TempDir(), "data", "submissions.jsonl"),
		"HTTP_ADDR":    "127.0.0.1:0",
		// The shipped programs' reminders fall due by the calendar: only the tests of
		// reminders want them.
		"BROADCAST_REMINDERS": "off",
	}
}

func (e testEnv) get(name string) string { return e[name] }

func (e testEnv) set(kv ...string) testEnv {
	out := testEnv{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

// telegramVars point serve at a fake Bot API in webhook mode, pacing chats briskly.
func telegramVars(api *telegramtest.Server) []string {
	return []string{"TELEGRAM_BOT_TOKEN", telegramtest.Token, "TELEGRAM_WEBHOOK_SECRET", tgSecret,
		"TELEGRAM_API_ENDPOINT", api.Endpoint(), "TELEGRAM_CHAT_INTERVAL", "5ms"}
}

// zaloVars point serve at a fake OA API, pacing chats briskly.
func zaloVars(zl *zalotest.Server) []string {
	return []string{"ZALO_APP_ID", zalotest.AppID, "ZALO_APP_SECRET", zalotest.AppSecret, "ZALO_OA_SECRET", zalotest.OASecret,
		"ZALO_ACCESS_TOKEN", zalotest.AccessToken, "ZALO_REFRESH_TOKEN", zalotest.RefreshToken,
		"ZALO_API_BASE", zl.URL, "ZALO_OAUTH_BASE", zl.URL, "ZALO_ZNS_BASE", zl.URL, "ZALO_CHAT_INTERVAL", "5ms"}
}
