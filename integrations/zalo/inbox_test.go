package zalo

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

// takeOver runs wh's takeover until it ran an event, as Run does every few seconds:
// the event's claim must run out first (one lease period). The bound guards against a
// hung test; nothing is asserted about how long it took.
func takeOver(t *testing.T, wh *Webhook) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n, err := wh.Takeover(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatal("no event was taken over")
}

// A correctly signed event whose run fails is answered 200 (Zalo may never deliver it
// again) and is not lost: it stays in the inbox and is run once its claim ran out.
func TestWebhookKeepsEventsWhoseRunFailed(t *testing.T) {
	rig := newRig(t, fixedNow)
	rig.rec.setFail(errRedisDown)
	if code := rig.post(t, sigRight, readTestdata(t, "text.json")); code != http.StatusOK {
		t.Fatalf("status %d, want 200", code)
	}
	if n := len(rig.rec.got()); n != 0 {
		t.Fatalf("%d events ran while the engine failed", n)
	}
	if n := rig.waiting(t); n != 1 {
		t.Fatalf("%d events in the inbox, want 1", n)
	}
	rig.rec.setFail(nil)
	takeOver(t, rig.wh)
	var events []string
	for _, ev := range rig.rec.got() {
		events = append(events, summary(ev))
	}
	if want := "a1b2c3d4e5f60718293a4b5c6d7e8f90 " + user + " text Xin chào, tôi muốn gửi sáng kiến"; len(events) != 1 || events[0] != want {
		t.Errorf("events after the takeover: %q, want %q", events, want)
	}
	if n := rig.waiting(t); n != 0 {
		t.Errorf("%d events left in the inbox after their run", n)
	}
}

// An event stored by a process that died before running it is run by another process
// once the dead one's claim ran out, and only then.
func TestWebhookTakesOverADeadProcessesEvents(t *testing.T) {
	store := inboxStore(t, nil)
	busy := busyEngine{gaveUp: make(chan error, 1)}
	dead, err := NewWebhook(Config{AppID: zalotest.AppID, OASecret: zalotest.OASecret, Handler: busy,
		Inbox: store.Inbox("zalo", testPeriod), Now: fixedNow, Deadline: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if code := (&webhookRig{wh: dead}).post(t, sigRight, readTestdata(t, "location.json")); code != http.StatusOK {
		t.Fatalf("status %d, want 200", code)
	}
	<-busy.gaveUp

	rec := newRecorder(t)
	alive, err := NewWebhook(Config{AppID: zalotest.AppID, OASecret: zalotest.OASecret, Handler: rec,
		Inbox: store.Inbox("zalo", testPeriod), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	takeOver(t, alive)
	got := rec.got()
	if len(got) != 1 || summary(got[0]) != "e1b2c3d4e5f60718293a4b5c6d7e8f94 "+user+" location 21.028511,105.854167 Hồ Hoàn Kiếm" {
		t.Errorf("taken over: %v", got)
	}
	if n, _ := store.Inbox("zalo", testPeriod).Len(context.Background()); n != 0 {
		t.Errorf("%d events left in the inbox", n)
	}
}

// failingInbox refuses to store while down is set, as Redis does when it is out.
type failingInbox struct {
	Inbox
	mu   sync.Mutex
	down bool
}

func (f *failingInbox) Put(ctx context.Context, id string, body []byte) (func(context.Context) error, error) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return nil, errRedisDown
	}
	return f.Inbox.Put(ctx, id, body)
}

func (f *failingInbox) set(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// When the event cannot be stored the webhook answers 500, so that Zalo may deliver it
// again, and says so once, not once per request; and once more when storing works.
func TestWebhookInboxDown(t *testing.T) {
	logs := &logBuffer{}
	rec := newRecorder(t)
	inbox := &failingInbox{Inbox: inboxStore(t, nil).Inbox("zalo", testPeriod), down: true}
	wh, err := NewWebhook(Config{AppID: zalotest.AppID, OASecret: zalotest.OASecret, Handler: rec, Inbox: inbox,
		Logger: logs.Logger(), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	rig := &webhookRig{wh: wh}
	for _, f := range []string{"text.json", "image.json", "location.json"} {
		if code := rig.post(t, sigRight, readTestdata(t, f)); code != http.StatusInternalServerError {
			t.Errorf("%s: status %d, want 500", f, code)
		}
	}
	if n := len(rec.got()); n != 0 {
		t.Errorf("%d events ran without being stored", n)
	}
	out := logs.String()
	if n := strings.Count(out, "cannot be stored"); n != 1 || !strings.Contains(out, "level=ERROR") {
		t.Errorf("want one ERROR line for three refused stores, got:\n%s", out)
	}
	inbox.set(false)
	if code := rig.post(t, sigRight, readTestdata(t, "text.json")); code != http.StatusOK {
		t.Errorf("after recovery: status %d", code)
	}
	out = logs.String()
	if !strings.Contains(out, "stored again") || !strings.Contains(out, "occurrences=3") {
		t.Errorf("no recovery line with the count:\n%s", out)
	}
	if n := len(rec.got()); n != 1 {
		t.Errorf("%d events ran after recovery, want 1", n)
	}
}

// Refused requests (forged, stale, impossible) are said once, then counted.
func TestWebhookRefusalsAreNotAFlood(t *testing.T) {
	rig := newRig(t, fixedNow)
	for range 5 {
		rig.post(t, sigWrong, readTestdata(t, "text.json"))
		rig.post(t, sigRight, readTestdata(t, "timestamp_overflow.json"))
	}
	out := rig.log.String()
	if n := strings.Count(out, "level=WARN"); n != 1 {
		t.Errorf("%d warnings for 10 refused requests, want 1:\n%s", n, out)
	}
	rig.post(t, sigRight, readTestdata(t, "text.json"))
	if out := rig.log.String(); !strings.Contains(out, "accepted again") || !strings.Contains(out, "occurrences=10") {
		t.Errorf("no line when requests are accepted again:\n%s", out)
	}
}

// Run takes over, on its own, what the webhook could not run.
func TestWebhookRunTakesOver(t *testing.T) {
	rig := newRig(t, fixedNow)
	rig.wh.cfg.TakeoverEvery = 20 * time.Millisecond
	rig.rec.setFail(errRedisDown)
	if code := rig.post(t, sigRight, readTestdata(t, "image.json")); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	rig.rec.setFail(nil)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- rig.wh.Run(ctx) }()
	// Run removes the event from the inbox after the engine ran it: wait for both, or
	// the cancel below may cut the removal short.
	for deadline := time.Now().Add(10 * time.Second); (len(rig.rec.got()) == 0 || rig.waiting(t) != 0) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Errorf("Run: %v", err)
	}
	if n := len(rig.rec.got()); n != 1 {
		t.Fatalf("%d events run by Run, want 1", n)
	}
	if n := rig.waiting(t); n != 0 {
		t.Errorf("%d events left in the inbox", n)
	}
}

// An event left in the inbox for longer than the engine remembers event ids is
// dropped with an ERROR line instead of being run: it could repeat its effects.
func TestWebhookDropsEventsPastTheDedupeWindow(t *testing.T) {
	rig := newRig(t, fixedNow)
	rig.rec.setFail(errRedisDown)
	rig.post(t, sigRight, readTestdata(t, "text.json"))
	rig.rec.setFail(nil)
	rig.wh.cfg.Now = func() time.Time { return testNow.Add(25 * time.Hour) }
	takeOver(t, rig.wh)
	if n := len(rig.rec.got()); n != 0 {
		t.Errorf("%d events run a day late", n)
	}
	if n := rig.waiting(t); n != 0 {
		t.Errorf("%d events left in the inbox", n)
	}
	if out := rig.log.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "dropped from the inbox") {
		t.Errorf("no ERROR line for the dropped event:\n%s", out)
	}
}

// What the gateway does not use is acknowledged without being stored: receipts and
// echoes are most of Zalo's deliveries.
func TestWebhookStoresOnlyWhatItRuns(t *testing.T) {
	rig := newRig(t, fixedNow)
	for _, f := range []string{"user_received_message.json", "user_seen_message.json", "oa_send_text.json", "unknown_user_reacted_message.json"} {
		if code := rig.post(t, sigRight, readTestdata(t, f)); code != http.StatusOK {
			t.Errorf("%s: status %d", f, code)
		}
	}
	rig.rec.setFail(errRedisDown)
	rig.post(t, sigRight, readTestdata(t, "oa_send_text_staff.json"))
	if n := rig.waiting(t); n != 1 {
		t.Errorf("%d events stored, want only the staff message that failed", n)
	}
}
