package main

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

var crashRecipients = flag.Int("crash-recipients", 3000, "TestBroadcastSurvivesKill9: the citizens the broadcast reaches (the issue's figure: 100000)")

// A gateway killed with SIGKILL part-way through a broadcast, and a new one started
// in its place: every subscribed citizen gets the broadcast, in their language, and
// only the messages that were in flight at the kill go twice.
//
// Those are the ones Telegram had taken (the fake noted them) when the process died
// before it recorded them sent in Redis: nothing tells a sender whether a message it
// never heard back about reached the chat, and the Bot API takes no idempotency key,
// so the next process sends them again rather than leave anyone out. The test counts
// them exactly: those the killed process sent less those Redis counts sent, which
// stands still from the kill until the new process starts. Every other recipient,
// queued or claimed or not yet fanned out at the kill, gets the broadcast once.
//
// The sends per second are logged. The 100,000 recipients:
//
//	go test -count=1 -run TestBroadcastSurvivesKill9 ./cmd/sangkien/ -crash-recipients 100000 -v
func TestBroadcastSurvivesKill9(t *testing.T) {
	n := *crashRecipients
	api := telegramtest.NewServer(t) // no limits
	front := newTelegramFront(t, api)
	env := newTestEnv(t).set(telegramVars(api)...).set(
		"BULK_QUIET_HOURS", "none", // the test may run at night in Hanoi
		"TELEGRAM_BULK_RATE", "1000000/1s", // a Bot API without limits
	)
	const first = 800_000_000
	start := time.Now()
	seedSubscribers(t, env, first, n)
	st := envStore(t, env)
	t.Logf("%d subscribers seeded in %s", n, time.Since(start).Round(time.Millisecond))

	one := startProcess(t, "the first gateway", env.set("TELEGRAM_API_ENDPOINT", front.endpoint("one")))
	textVI, textEN := "📣 Còn 7 ngày để gửi sáng kiến Chuyển đổi số phường, xã.", "📣 7 days left to send an initiative to Digital wards."
	id := sendBroadcast(t, env, textVI, textEN)
	waitFor(t, time.Duration(n/100+60)*time.Second, 10*time.Millisecond, "40% of the broadcast sent", func() bool { return front.count() >= n*2/5 })
	one.kill9(t)
	atKill := broadcastProgress(t, st, id)
	t.Logf("killed at %d sends; Redis counted %d sent, %d queued, %d of %d shards fanned out",
		front.count(), atKill.Sent, atKill.Queued, atKill.ShardsDone, atKill.Shards)

	two := startProcess(t, "the second gateway", env.set("TELEGRAM_API_ENDPOINT", front.endpoint("two")))
	// The first one's leases on its shards run out (15 s) before the second takes them.
	waitFor(t, time.Duration(n/100+120)*time.Second, 100*time.Millisecond, "the broadcast finished", func() bool {
		p := broadcastProgress(t, st, id)
		return p.Finished() && p.Queued == int64(n)
	})
	two.stop(t) // nothing is sent after this

	got := map[string][2]int{} // chat: sends by the first process, by the second
	var byOne int
	for _, s := range front.sends() {
		c := got[s.chat]
		if s.process == "one" {
			c[0]++
			byOne++
		} else {
			c[1]++
		}
		got[s.chat] = c
		i := 0
		if _, err := fmt.Sscan(s.chat, &i); err != nil || i < first || i >= first+n {
			t.Errorf("a message to %s, who is not a recipient", s.chat)
			continue
		}
		if want := map[bool]string{false: textVI, true: textEN}[(i-first)%3 == 2]; s.text != want {
			t.Errorf("chat %s got %q, want %q", s.chat, s.text, want)
		}
	}
	twice := 0
	for i := range n {
		chat := fmt.Sprint(first + i)
		switch c := got[chat]; {
		case c[0]+c[1] == 0:
			t.Errorf("chat %s never got the broadcast", chat)
		case c[0] > 1 || c[1] > 1:
			t.Errorf("chat %s got the broadcast %d times from one process (%d then %d)", chat, c[0]+c[1], c[0], c[1])
		case c[0] == 1 && c[1] == 1:
			twice++
		}
	}
	if inFlight := byOne - int(atKill.Sent); twice != inFlight {
		t.Errorf("%d citizens got the broadcast twice; %d sends were in flight at the kill", twice, inFlight)
	}
	if p := broadcastProgress(t, st, id); p.Sent != int64(n) || p.Failed != 0 || p.Gone != 0 {
		t.Errorf("progress after the restart: %+v, want %d sent", p, n)
	}
	t.Logf("%d recipients: every one reached; %d sent twice (in flight at the kill); %d sent by the first process, %d by the second",
		n, twice, byOne, len(front.sends())-byOne)
	t.Logf("sends per second: %s", sendRates(api))
}

// sendRates is the fake's sendMessage rate, from its first call to its last, by each
// stretch of calls without a pause of more than a second (a restart is one).
func sendRates(api *telegramtest.Server) string {
	calls := api.Calls("sendMessage")
	if len(calls) == 0 {
		return "none"
	}
	var out string
	from := 0
	for i := 1; i <= len(calls); i++ {
		if i < len(calls) && calls[i].At.Sub(calls[i-1].At) <= time.Second {
			continue
		}
		span := calls[i-1].At.Sub(calls[from].At)
		out += fmt.Sprintf("%d sends in %s (%.0f/s); ", i-from, span.Round(time.Millisecond), float64(i-from)/max(span.Seconds(), 1e-3))
		from = i
	}
	return out
}
