package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

// A broadcast sent from the terminal reaches, through serve and the fake Bot API, each
// subscribed citizen once and in their language, and nobody who said stop; show and
// list say how it went.
func TestBroadcastEndToEnd(t *testing.T) {
	api := telegramtest.NewServer(t)
	env := newTestEnv(t).set(telegramVars(api)...).set(
		"BULK_QUIET_HOURS", "none", // the test may run at night in Hanoi
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done := startServe(t, ctx, env)

	id := 900
	vi := tgCitizen{chat: 700100200, lang: "vi", nextID: &id}
	en := tgCitizen{chat: 700100300, lang: "en", nextID: &id}
	stopped := tgCitizen{chat: 700100400, lang: "vi", nextID: &id}
	for _, c := range []tgCitizen{vi, en, stopped} {
		postUpdate(t, api, addr, c.text("/start"))
	}
	postUpdate(t, api, addr, stopped.text("dừng nhận tin"))
	waitChannel(t, func() []string { return sentTo(api, stopped.chat) }, "")

	cli := func(args ...string) string {
		t.Helper()
		var out, errs strings.Builder
		if err := run(ctx, append([]string{"broadcast"}, args...), env.get, strings.NewReader(""), &out, &errs); err != nil {
			t.Fatalf("broadcast %s: %v %s", args[0], err, errs.String())
		}
		return out.String()
	}
	textVI, textEN := "📣 Chương trình Chuyển đổi số phường, xã nhận sáng kiến đến hết 31/03/2028.", "📣 The Digital wards programme takes initiatives until 31/03/2028."
	sent := cli("send", "--audience", "subscribed", "--text-vi", textVI, "--text-en", textEN)
	bc, _, _ := strings.Cut(sent, "\n")
	if !strings.Contains(sent, "about 2 recipients") {
		t.Errorf("send says %q", sent)
	}
	waitChannel(t, func() []string { return sentTo(api, vi.chat) }, textVI)
	waitChannel(t, func() []string { return sentTo(api, en.chat) }, textEN)
	var show struct {
		bot.Broadcast
		Progress bot.BroadcastProgress `json:"progress"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := json.Unmarshal([]byte(cli("show", bc, "--json")), &show); err != nil {
			t.Fatal(err)
		}
		// Sending may finish before the last shard's fan-out marks the broadcast queued.
		if show.Progress.Finished() && show.State == bot.BroadcastQueued || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p := show.Progress; !p.Finished() || p.Queued != 2 || p.Sent != 2 || p.Failed != 0 || show.State != bot.BroadcastQueued {
		t.Errorf("show: %s %+v", show.State, p)
	}
	if bar := cli("show", bc); !strings.Contains(bar, "2/2 sent (0 failed, 0 skipped)") {
		t.Errorf("the progress bar says %q", bar)
	}
	if list := cli("list"); !strings.Contains(list, bc) || !strings.Contains(list, "queued") {
		t.Errorf("list says %q", list)
	}
	time.Sleep(300 * time.Millisecond) // room for a second copy to show itself
	for _, c := range []tgCitizen{vi, en} {
		n := 0
		for _, s := range sentTo(api, c.chat) {
			if s == textVI || s == textEN {
				n++
			}
		}
		if n != 1 {
			t.Errorf("chat %d got the broadcast %d times", c.chat, n)
		}
	}
	if slices.ContainsFunc(sentTo(api, stopped.chat), func(s string) bool { return s == textVI }) {
		t.Error("the citizen who said stop got the broadcast")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// A program opened an hour ago closes in less than a day: serve schedules its opening
// reminder for everyone subscribed (on Telegram and on Zalo, each in their language)
// and its last-day reminder for the citizen with an unfinished draft in it, naming their
// draft, whose Continue button takes them back to it; the citizen who said stop hears
// neither, and nobody hears one twice.
func TestRemindersEndToEnd(t *testing.T) {
	api := telegramtest.NewServer(t)
	zl := zalotest.NewServer(t)
	now := time.Now().In(bot.HoChiMinh())
	programs := lightingProgram(t, now.Add(-time.Hour).Format("2006-01-02 15:04"), now.Add(23*time.Hour).Format("2006-01-02 15:04"), "")
	env := newTestEnv(t).set(telegramVars(api)...).set(zaloVars(zl)...).set(
		"BULK_QUIET_HOURS", "none", "PROGRAMS_FILE", programs, "BROADCAST_REMINDERS", "off",
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The citizens write while no reminder runs, then a gateway with reminders starts.
	addr, done := startServe(t, ctx, env)
	id := 2000
	subscribed := tgCitizen{chat: 710000001, lang: "vi", nextID: &id}
	drafting := tgCitizen{chat: 710000002, lang: "en", nextID: &id}
	stopped := tgCitizen{chat: 710000003, lang: "vi", nextID: &id}
	for _, c := range []tgCitizen{subscribed, drafting, stopped} {
		postUpdate(t, api, addr, c.text("/start"))
	}
	postUpdate(t, api, addr, stopped.text("dừng nhận tin"))
	for _, u := range [][]byte{drafting.press("cmd:initiative"), drafting.press("agree"), drafting.press("field:den"), drafting.text("Brighter lights for Hang Bac street")} {
		postUpdate(t, api, addr, u)
	}
	onZalo := zaloHello(t, addr, "7392845012349870099")
	waitChannel(t, func() []string { return sentTo(api, drafting.chat) }, "")
	waitChannel(t, func() []string { return zl.Sent(onZalo.user) }, "")
	addr, done, cancel = withReminders(t, cancel, done, env)
	defer cancel()

	waitChannel(t, func() []string { return sentTo(api, subscribed.chat) }, `"Chiếu sáng đô thị" đã bắt đầu nhận sáng kiến`)
	waitChannel(t, func() []string { return zl.Sent(onZalo.user) }, `"Chiếu sáng đô thị" đã bắt đầu nhận sáng kiến`)
	waitChannel(t, func() []string { return sentTo(api, drafting.chat) }, `The program "Street lighting" now takes initiatives`)
	waitChannel(t, func() []string { return sentTo(api, drafting.chat) }, `Your initiative "Brighter lights for Hang Bac street" is not sent yet; the program "Street lighting" closes`)
	reminder := api.Calls("sendMessage")
	var buttons string
	for _, r := range reminder {
		if strings.Contains(r.Params["text"], "is not sent yet") {
			buttons = r.Params["reply_markup"]
		}
	}
	if !strings.Contains(buttons, `"callback_data":"cmd:initiative:den-duong"`) || !strings.Contains(buttons, "Continue") {
		t.Errorf("the draft reminder's buttons: %s", buttons)
	}
	postUpdate(t, api, addr, drafting.press("cmd:initiative:den-duong"))
	waitChannel(t, func() []string { return sentTo(api, drafting.chat) }, "Welcome back!")
	postUpdate(t, api, addr, drafting.press("continue"))
	waitChannel(t, func() []string { return sentTo(api, drafting.chat) }, "Please describe your initiative")

	time.Sleep(300 * time.Millisecond) // room for a reminder too many
	count := func(chat int64, part string) int {
		n := 0
		for _, s := range sentTo(api, chat) {
			if strings.Contains(s, part) {
				n++
			}
		}
		return n
	}
	if n := count(subscribed.chat, "Chiếu sáng đô thị"); n != 1 {
		t.Errorf("the subscribed citizen got %d reminders, want the opening one", n)
	}
	if n := count(drafting.chat, "Street lighting"); n != 2 {
		t.Errorf("the drafting citizen got %d reminders, want 2", n)
	}
	zaloGot := 0
	for _, s := range zl.Sent(onZalo.user) {
		if strings.Contains(s, "Chiếu sáng đô thị") {
			zaloGot++
		}
	}
	if zaloGot != 1 {
		t.Errorf("the Zalo citizen got %d reminders, want the opening one", zaloGot)
	}
	if n := count(stopped.chat, "Chiếu sáng"); n != 0 {
		t.Errorf("the citizen who said stop got %d reminders", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// lightingProgram writes a programs file of one program, "den-duong", open from opens
// to deadline (as the programs file writes dates), with extra lines of its own (its
// reminders), and returns its path.
func lightingProgram(t *testing.T, opens, deadline, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "programs.yaml")
	yaml := fmt.Sprintf(`programs:
  - id: den-duong
    name: { vi: "Chiếu sáng đô thị", en: "Street lighting" }
    description: { vi: "Sáng kiến về chiếu sáng.", en: "Initiatives on lighting." }
    fields:
      - id: den
        name: { vi: "Đèn đường", en: "Street lights" }
        service_code: "LIGHT"
    opens: %q
    deadline: %q
%s`, opens, deadline, extra)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// zaloHello has a Zalo citizen follow the OA and greet it.
func zaloHello(t *testing.T, addr, user string) zlCitizen {
	t.Helper()
	n := 0
	c := zlCitizen{user: user, n: &n}
	for _, body := range [][]byte{c.follow(), c.text("xin chào")} {
		postZalo(t, addr, body, zalotest.Sign(zalotest.AppID, body, zalotest.OASecret))
	}
	return c
}

// withReminders stops the serve that cancel and done belong to, which ran with
// BROADCAST_REMINDERS off while the citizens wrote, and starts one with them on.
func withReminders(t *testing.T, cancel context.CancelFunc, done <-chan error, env testEnv) (string, <-chan error, context.CancelFunc) {
	t.Helper()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := startServe(t, ctx, env.set("BROADCAST_REMINDERS", "on"))
	return addr, done, cancel
}
