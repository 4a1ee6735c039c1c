package main

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

const tgSecret = "e2e-webhook-secret"

// tgCitizen builds the updates one Telegram citizen sends, in Telegram's JSON shapes.
type tgCitizen struct {
	chat   int64
	lang   string
	nextID *int
}

func (c tgCitizen) from() map[string]any {
	return map[string]any{"id": c.chat, "is_bot": false, "first_name": "Lan", "language_code": c.lang}
}

func (c tgCitizen) update(kind string, body map[string]any) []byte {
	*c.nextID++
	u := map[string]any{"update_id": *c.nextID, kind: body}
	b, _ := json.Marshal(u)
	return b
}

func (c tgCitizen) message(fields map[string]any) []byte {
	m := map[string]any{
		"message_id": *c.nextID + 1, "date": 1764316800, "from": c.from(),
		"chat": map[string]any{"id": c.chat, "type": "private", "first_name": "Lan"},
	}
	for k, v := range fields {
		m[k] = v
	}
	return c.update("message", m)
}

func (c tgCitizen) text(s string) []byte {
	f := map[string]any{"text": s}
	if strings.HasPrefix(s, "/") {
		f["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": len(strings.Fields(s)[0])}}
	}
	return c.message(f)
}

func (c tgCitizen) press(data string) []byte {
	return c.update("callback_query", map[string]any{
		"id": "cb" + strconv.Itoa(*c.nextID+1), "from": c.from(), "chat_instance": "1", "data": data,
		"message": map[string]any{"message_id": 7, "date": 1764316800,
			"chat": map[string]any{"id": c.chat, "type": "private"}, "text": "…"},
	})
}

func (c tgCitizen) location(lat, lon float64) []byte {
	return c.message(map[string]any{"location": map[string]any{"latitude": lat, "longitude": lon}})
}

func (c tgCitizen) contact(phone string) []byte {
	return c.message(map[string]any{"contact": map[string]any{"phone_number": phone, "first_name": "Lan", "user_id": c.chat}})
}

// proposal is a whole initiative proposal as Telegram updates: buttons pressed, numbers
// and labels typed, a shared location and the citizen's own contact.
func (c tgCitizen) proposal(title, description, benefit, name string) [][]byte {
	return [][]byte{
		c.text("/start"),
		c.press("cmd:initiative"),
		c.press("agree"),
		c.text("1"), // the first open program, by number
		c.text("1"), // its first field
		c.text(title),
		c.text(description),
		c.press("done"),
		c.text(benefit),
		c.location(21.028511, 105.854167),
		c.press("skip"), // no photos
		c.text(name),
		c.contact("0912345678"),
		c.press("skip"), // no email
		c.press("submit"),
	}
}

// postUpdate delivers one update to the gateway's webhook as Telegram does, and has the
// fake Bot API run the method the answer names, if any.
func postUpdate(t *testing.T, api *telegramtest.Server, addr string, body []byte) {
	t.Helper()
	if err := postLoad(http.DefaultClient, api, addr, body); err != nil {
		t.Errorf("%v to %s", err, body)
	}
}

// TestTelegramProposalEndToEnd: two citizens, one in Vietnamese and one in English,
// propose an initiative through the webhook alone, every update delivered twice. Each
// submission reaches the intake file once, and the fake Bot API receives every reply the
// engine wrote to the transcript once, in order.
func TestTelegramProposalEndToEnd(t *testing.T) {
	api := telegramtest.NewServer(t)
	env := newTestEnv(t).set(
		"TELEGRAM_BOT_TOKEN", telegramtest.Token,
		"TELEGRAM_WEBHOOK_SECRET", tgSecret,
		"TELEGRAM_API_ENDPOINT", api.Endpoint(),
		"TELEGRAM_CHAT_INTERVAL", "5ms",
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done := startServe(t, ctx, env)

	viID, enID := 100, 500000
	vi := tgCitizen{chat: 987654321, lang: "vi", nextID: &viID}
	en := tgCitizen{chat: 123123123, lang: "en", nextID: &enID}
	scripts := map[tgCitizen][][]byte{
		vi: vi.proposal("Ứng dụng báo hỏng đèn đường",
			"Hiện nay người dân muốn báo đèn đường hỏng thì phải gọi điện cho phường, nhiều khi không ai nghe máy.",
			"Đèn được sửa nhanh hơn, đường phố an toàn hơn.", "Nguyễn Thị Lan"),
		en: en.proposal("Report broken street lights",
			"Residents who want to report a broken street light must phone the ward office, which often does not answer.",
			"Lights are fixed sooner and streets are safer at night.", "Lan Nguyen"),
	}
	var wg sync.WaitGroup
	for _, updates := range scripts {
		wg.Go(func() {
			for _, u := range updates {
				postUpdate(t, api, addr, u) // Telegram redelivers: every update arrives twice
				postUpdate(t, api, addr, u)
			}
		})
	}
	wg.Wait()

	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: env["REDIS_PREFIX"]})
	for c := range scripts {
		conv := bot.ConversationRef{Channel: bot.Telegram, ID: strconv.FormatInt(c.chat, 10)}
		want, got := waitDelivered(t, st, conv, func() []string { return sentTo(api, c.chat) })
		if !slices.Equal(got, want) {
			t.Errorf("chat %d (%s): the Bot API got %d messages, the transcript has %d replies:\n got %q\nwant %q",
				c.chat, c.lang, len(got), len(want), got, want)
		}
		if n := len(want); n < 15 || !strings.Contains(want[n-1], "SK-") {
			t.Errorf("chat %d: the conversation did not end with a reference code: %q", c.chat, want)
		}
	}
	// Each of the 12 presses arrives twice, and each delivery's answer names the
	// button's answer (the second, too: Telegram delivers again when it missed the first).
	answers := api.Calls("answerCallbackQuery")
	for _, a := range answers {
		if !a.Webhook {
			t.Errorf("answerCallbackQuery called by the gateway: %+v, want it named in the webhook's answer", a)
		}
	}
	if n := len(answers); n != 24 {
		t.Errorf("answerCallbackQuery named %d times, want once for each delivery of 12 presses", n)
	}

	waitForFile(t, env["INTAKE_FILE"], 2)
	recs := readSubmissions(t, env["INTAKE_FILE"])
	titles := []string{}
	for _, r := range recs {
		titles = append(titles, r.Lang+": "+r.Title)
		if r.Contact.Phone != "+84912345678" || r.Location == nil || r.Conversation.Channel != bot.Telegram {
			t.Errorf("submission lacks its answers: %+v", r.Submission)
		}
	}
	slices.Sort(titles)
	if want := []string{"en: Report broken street lights", "vi: Ứng dụng báo hỏng đèn đường"}; !slices.Equal(titles, want) {
		t.Errorf("intake file holds %q, want %q once each", titles, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// waitDelivered waits until the channel's fake API got as many messages as the
// conversation's transcript has replies (the deadline only guards against a hang), and a
// moment more, in which a doubled reply would show up. It returns the transcript's
// replies and the messages sent, in order.
func waitDelivered(t *testing.T, st *redisstore.Store, conv bot.ConversationRef, sent func() []string) (want, got []string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tr, err := st.Transcript(context.Background(), conv, 0)
		if err != nil {
			t.Fatal(err)
		}
		want = want[:0]
		for _, e := range tr {
			if e.Dir == bot.Outgoing {
				want = append(want, e.Text)
			}
		}
		if len(sent()) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	return want, sent()
}

// sentTo lists the texts the fake Bot API received for one chat, in order.
func sentTo(api *telegramtest.Server, chat int64) []string {
	var out []string
	for _, r := range api.Calls("sendMessage") {
		if r.Params["chat_id"] == strconv.FormatInt(chat, 10) {
			out = append(out, r.Params["text"])
		}
	}
	return out
}

// waitForFile waits until the JSONL file has n lines (the outbox worker runs apart).
func waitForFile(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if recs := readSubmissionsIfAny(path); recs >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the intake file never had %d submissions", n)
}

func readSubmissionsIfAny(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(data), "\n")
}
