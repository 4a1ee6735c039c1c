package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// TELEGRAM_PAID_BROADCAST turns paid broadcasts on and raises TELEGRAM_BULK_RATE's
// default to Telegram's limit of paid broadcasts; a rate set explicitly stays.
func TestConfigPaidBroadcast(t *testing.T) {
	for _, tt := range []struct {
		name     string
		env      testEnv
		paid     bool
		bulkRate string
	}{
		{"by default", testEnv{}, false, "30/1.1s"},
		{"paid", testEnv{"TELEGRAM_PAID_BROADCAST": "true"}, true, "1000/1.1s"},
		{"paid, written in capitals", testEnv{"TELEGRAM_PAID_BROADCAST": "TRUE"}, true, "1000/1.1s"},
		{"paid at a rate of the operator's", testEnv{"TELEGRAM_PAID_BROADCAST": "true", "TELEGRAM_BULK_RATE": "300/1s"}, true, "300/1s"},
		{"not paid", testEnv{"TELEGRAM_PAID_BROADCAST": "false"}, false, "30/1.1s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(tt.env.get)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Telegram.PaidBroadcast != tt.paid || cfg.Telegram.Bulk.String() != tt.bulkRate {
				t.Errorf("paid %t at %s, want %t at %s", cfg.Telegram.PaidBroadcast, cfg.Telegram.Bulk, tt.paid, tt.bulkRate)
			}
		})
	}
	_, err := loadConfig(testEnv{"TELEGRAM_PAID_BROADCAST": "yes please"}.get)
	if err == nil || !strings.Contains(err.Error(), "TELEGRAM_PAID_BROADCAST") {
		t.Errorf("TELEGRAM_PAID_BROADCAST=yes please: %v, want an error naming it", err)
	}
}

// With TELEGRAM_PAID_BROADCAST=true, serve sends a broadcast as paid broadcasts, faster
// than Telegram's 30 a second for free ones, and its replies as replies: the fake
// counts free and paid sends apart, and answers 429 beyond 30 free ones a second.
func TestPaidBroadcastEndToEnd(t *testing.T) {
	api := telegramtest.NewServer(t)
	api.LimitSends(30, time.Second)
	env := newTestEnv(t).set(telegramVars(api)...).set(
		"BULK_QUIET_HOURS", "none", // the test may run at night in Hanoi
		"TELEGRAM_PAID_BROADCAST", "true",
	)
	const n, first = 200, 820_000_000
	seedSubscribers(t, env, first, n)
	st := envStore(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done := startServe(t, ctx, env)
	id := 3000
	lan := tgCitizen{chat: 820_100_001, lang: "vi", nextID: &id}
	postUpdate(t, api, addr, lan.text("/start"))
	waitChannel(t, func() []string { return sentTo(api, lan.chat) }, "")

	textVI, textEN := "📣 Còn 1 ngày để gửi sáng kiến.", "📣 1 day left to send an initiative."
	bc := sendBroadcast(t, env, textVI, textEN)
	waitFor(t, 30*time.Second, 100*time.Millisecond, "the broadcast sent", func() bool {
		p := broadcastProgress(t, st, bc)
		return p.Finished() && p.Sent == n+1
	})
	replies := len(sentTo(api, lan.chat))
	postUpdate(t, api, addr, lan.text("xin chào"))
	waitFor(t, 10*time.Second, 10*time.Millisecond, "the reply to a message after the broadcast", func() bool { return len(sentTo(api, lan.chat)) > replies })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}

	var paid []telegramtest.Request
	for _, r := range api.Calls("sendMessage") {
		isBroadcast := r.Params["text"] == textVI || r.Params["text"] == textEN
		switch flag, given := r.Params["allow_paid_broadcast"]; {
		case r.Limited:
			t.Errorf("a send to %s was answered 429", r.Params["chat_id"])
		case isBroadcast && flag != "true":
			t.Errorf("the broadcast went to %s with allow_paid_broadcast %q", r.Params["chat_id"], flag)
		case !isBroadcast && given:
			t.Errorf("a reply %q went with allow_paid_broadcast %q", r.Params["text"], flag)
		case isBroadcast:
			paid = append(paid, r)
		}
	}
	if len(paid) != n+1 {
		t.Errorf("%d paid sends, want %d", len(paid), n+1)
	}
	if most := busiestSecond(paid); most <= 30 {
		t.Errorf("at most %d paid sends in a second: the bulk limit did not rise above the free one", most)
	}
	t.Logf("%d paid sends, at most %d in a second", len(paid), busiestSecond(paid))
}

// busiestSecond is the most calls in any one-second window, as the fake timed them.
func busiestSecond(calls []telegramtest.Request) int {
	most, from := 0, 0
	for i, c := range calls {
		for c.At.Sub(calls[from].At) >= time.Second {
			from++
		}
		most = max(most, i-from+1)
	}
	return most
}
