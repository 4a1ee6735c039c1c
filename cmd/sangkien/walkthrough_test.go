package main

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

var walkthroughMinutes = flag.Bool("walkthrough-minutes", false,
	"TestDeadlineWalkthrough: a deadline two minutes ahead, as a person trying it would set it (else about a minute and 5 seconds)")

// The deadline reminders as a new user tries them: a program in the programs file closes
// in two minutes and reminds a minute before. On the fake Bot API a citizen pressed
// "Remind me", one has a draft in it and one said stop; one more follows the OA on the
// fake Zalo API. The program's opening reaches the three subscribed, each in their
// language; a minute before the deadline the follower hears the time left and the
// draft owner their draft by name, each once, and the draft owner continues the draft
// from the reminder's button; nothing reaches the one who said stop. `sangkien
// broadcast show` and the console show each reminder's progress.
func TestDeadlineWalkthrough(t *testing.T) {
	staffBcryptCost = bcrypt.MinCost
	t.Cleanup(func() { staffBcryptCost = 12 })
	api := telegramtest.NewServer(t)
	zl := zalotest.NewServer(t)
	now := time.Now().In(bot.HoChiMinh())
	deadline := now.Add(time.Minute + 5*time.Second) // the one-minute reminder in 5 s
	if *walkthroughMinutes {
		deadline = now.Add(2 * time.Minute)
	}
	programs := lightingProgram(t, now.Add(-time.Minute).Format(time.RFC3339), deadline.Format(time.RFC3339), "    reminders: [opening, 1m]\n")
	env := newTestEnv(t).set(telegramVars(api)...).set(zaloVars(zl)...).set(
		"BULK_QUIET_HOURS", "none", "PROGRAMS_FILE", programs, "BROADCAST_REMINDERS", "off",
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addStaff(t, ctx, env, "an@hanoi.gov.vn", "Lê An", "admin", "mật khẩu của An 2026")

	// The citizens write while no reminder runs; then the gateway starts with them.
	addr, done := startServe(t, ctx, env)
	id := 5000
	follower := tgCitizen{chat: 730000001, lang: "en", nextID: &id}
	drafter := tgCitizen{chat: 730000002, lang: "vi", nextID: &id}
	stopped := tgCitizen{chat: 730000003, lang: "vi", nextID: &id}
	for _, u := range [][]byte{follower.text("/start"), follower.press("remind:den-duong"),
		stopped.text("/start"), stopped.press("remind:den-duong"), stopped.text("dừng nhận tin"),
		drafter.text("/start"), drafter.press("cmd:initiative"), drafter.press("agree"), drafter.press("field:den"),
		drafter.text("Đèn đường phố Hàng Bạc sáng hơn")} {
		postUpdate(t, api, addr, u)
	}
	onZalo := zaloHello(t, addr, "7392845012349870555")
	waitChannel(t, func() []string { return sentTo(api, follower.chat) }, "We'll remind you")
	waitChannel(t, func() []string { return sentTo(api, drafter.chat) }, "mô tả")
	waitChannel(t, func() []string { return zl.Sent(onZalo.user) }, "")
	addr, done, cancel = withReminders(t, cancel, done, env)
	defer cancel()

	opened := `"Chiếu sáng đô thị" đã bắt đầu nhận sáng kiến`
	waitChannel(t, func() []string { return sentTo(api, drafter.chat) }, opened)
	waitChannel(t, func() []string { return zl.Sent(onZalo.user) }, opened)
	waitChannel(t, func() []string { return sentTo(api, follower.chat) }, `The program "Street lighting" now takes initiatives`)
	waitMinute := func(sent func() []string, part string) {
		t.Helper()
		for end := deadline.Add(-time.Minute).Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if strings.Contains(strings.Join(sent(), "\n"), part) {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("no %q by %s; got %q", part, end.Format("15:04:05"), sent())
			}
		}
	}
	waitMinute(func() []string { return sentTo(api, follower.chat) }, `Only 1 minute left: the program "Street lighting"`)
	waitMinute(func() []string { return sentTo(api, drafter.chat) },
		`Sáng kiến "Đèn đường phố Hàng Bạc sáng hơn" của bạn vẫn chưa được gửi. Chương trình "Chiếu sáng đô thị" sẽ hết hạn nhận sáng kiến vào`)
	postUpdate(t, api, addr, drafter.press("cmd:initiative:den-duong"))
	waitChannel(t, func() []string { return sentTo(api, drafter.chat) }, "Chào mừng bạn quay lại")
	postUpdate(t, api, addr, drafter.press("continue"))
	waitChannel(t, func() []string { return sentTo(api, drafter.chat) }, "mô tả")

	// Each reminder's progress, as `sangkien broadcast show` and the console give it.
	stamp := deadline.Format("20060102T1504")
	for _, bc := range []string{"rem-den-duong-opened-" + now.Add(-time.Minute).Format("20060102T1504"),
		"rem-den-duong-1m-" + stamp, "rem-den-duong-1m-draft-" + stamp} {
		var out, errs strings.Builder
		if err := run(context.Background(), []string{"broadcast", "show", bc}, env.get, strings.NewReader(""), &out, &errs); err != nil {
			t.Fatalf("broadcast show %s: %v %s", bc, err, errs.String())
		}
		want := map[bool]string{true: "3/3 sent", false: "1/1 sent"}[strings.Contains(bc, "opened")]
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "0 skipped") {
			t.Errorf("broadcast show %s says %q, want %q", bc, out.String(), want)
		}
	}
	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: jar}
	res, err := admin.PostForm("http://"+addr+"/console/login", url.Values{"email": {"an@hanoi.gov.vn"}, "password": {"mật khẩu của An 2026"}})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	res, err = admin.Get("http://" + addr + "/console/api/broadcasts/rem-den-duong-1m-draft-" + stamp)
	if err != nil {
		t.Fatal(err)
	}
	var one struct {
		State    string `json:"state"`
		Progress struct {
			Queued, Sent int64
			Finished     bool
		} `json:"progress"`
	}
	if err := json.NewDecoder(res.Body).Decode(&one); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the console's broadcast: %d %v", res.StatusCode, err)
	}
	res.Body.Close()
	if one.Progress.Queued != 1 || one.Progress.Sent != 1 || !one.Progress.Finished {
		t.Errorf("the console shows the draft reminder as %+v", one)
	}

	time.Sleep(300 * time.Millisecond) // room for a reminder too many
	count := func(sent []string, part string) int {
		n := 0
		for _, s := range sent {
			if strings.Contains(s, part) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		who  string
		sent []string
		part string
		want int
	}{
		{"the follower", sentTo(api, follower.chat), "Street lighting\" now takes", 1},
		{"the follower", sentTo(api, follower.chat), "Only 1 minute left", 1},
		{"the draft owner", sentTo(api, drafter.chat), opened, 1},
		{"the draft owner", sentTo(api, drafter.chat), "của bạn vẫn chưa được gửi", 1},
		{"the draft owner", sentTo(api, drafter.chat), "Chỉ còn 1 phút", 0}, // the personal one stands for it
		{"the Zalo citizen", zl.Sent(onZalo.user), opened, 1},
		{"the Zalo citizen", zl.Sent(onZalo.user), "1 phút", 0},
		{"the citizen who said stop", sentTo(api, stopped.chat), "Chiếu sáng đô thị\" đã", 0},
		{"the citizen who said stop", sentTo(api, stopped.chat), "1 phút", 0},
	} {
		if got := count(c.sent, c.part); got != c.want {
			t.Errorf("%s got %q %d times, want %d", c.who, c.part, got, c.want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
