package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/intake/intaketest"
	"github.com/sangkien/sangkien/integrations/media"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// startServeLogged is startServe keeping the whole log.
func startServeLogged(t *testing.T, ctx context.Context, env testEnv) (string, <-chan error, *bottest.LogBuffer) {
	t.Helper()
	logs := &bottest.LogBuffer{}
	logR, logW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"serve"}, env.get, strings.NewReader(""), io.Discard, logW)
		logW.CloseWithError(io.EOF)
		done <- err
	}()
	sc := bufio.NewScanner(logR)
	for sc.Scan() {
		logs.Write(append(sc.Bytes(), '\n'))
		if m := listenLog.FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(logs, logR) }()
			return m[1] + m[2], done, logs
		}
	}
	t.Fatalf("serve ended before it listened: %v\n%s", <-done, logs)
	return "", nil, nil
}

// waitSent waits until the fake Bot API sent chat a message containing want.
func waitSent(t *testing.T, api *telegramtest.Server, chat int64, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range sentTo(api, chat) {
			if strings.Contains(m, want) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("chat %d never got a message with %q; it got %q", chat, want, sentTo(api, chat))
	return ""
}

// TestIntakeEndToEnd: two citizens propose through Telegram while the city's intake
// fails; once it recovers each submission arrives exactly once, signed, and each
// citizen hears that the city received it. A status callback from the city then reaches
// the citizen through the Bot API, and the media proxy serves a citizen's photo without
// the bot token ever showing.
func TestIntakeEndToEnd(t *testing.T) {
	api := telegramtest.NewServer(t)
	city := intaketest.NewJSONServer(t, intakeSecret)
	city.Script(intaketest.Answer{Status: 503}, intaketest.Answer{Status: 500, Keep: true})
	const public = "https://gw.example.vn"
	env := newTestEnv(t).set(
		"TELEGRAM_BOT_TOKEN", telegramtest.Token,
		"TELEGRAM_WEBHOOK_SECRET", tgSecret,
		"TELEGRAM_API_ENDPOINT", api.Endpoint(),
		"TELEGRAM_CHAT_INTERVAL", "5ms",
		"INTAKE_URL", city.URL(),
		"INTAKE_SECRET", intakeSecret,
		"PUBLIC_BASE_URL", public,
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done, logs := startServeLogged(t, ctx, env)

	viID, enID := 700, 900000
	vi := tgCitizen{chat: 44001, lang: "vi", nextID: &viID}
	en := tgCitizen{chat: 44002, lang: "en", nextID: &enID}
	scripts := map[tgCitizen][][]byte{
		vi: vi.proposal("Ghế đá quanh hồ Tây", "Quanh hồ Tây thiếu chỗ ngồi nghỉ cho người đi bộ và người cao tuổi vào buổi chiều.",
			"Người dân có chỗ nghỉ chân, hồ Tây thân thiện hơn.", "Nguyễn Thị Lan"),
		en: en.proposal("Benches around West Lake", "There are too few places to sit around West Lake for walkers and older residents.",
			"Residents can rest, and the lake is friendlier.", "Lan Nguyen"),
	}
	var wg sync.WaitGroup
	for _, updates := range scripts {
		wg.Go(func() {
			for _, u := range updates {
				postUpdate(t, api, addr, u)
				postUpdate(t, api, addr, u) // Telegram redelivers
			}
		})
	}
	wg.Wait()

	// Every submission arrives once, after the failures, with a valid signature.
	eventually(t, "the city keeps both submissions", func() bool { return len(city.Submissions()) >= 2 })
	receipts := map[int64]string{}
	for _, c := range []tgCitizen{vi, en} {
		want := map[string]string{"vi": "Trạng thái mới: Đã tiếp nhận", "en": "New status: Received"}[c.lang]
		receipts[c.chat] = waitSent(t, api, c.chat, want)
	}
	subs := city.Submissions()
	var refs []string
	for _, s := range subs {
		refs = append(refs, s.Reference)
	}
	slices.Sort(refs)
	if len(subs) != 2 || refs[0] == refs[1] {
		t.Errorf("the city kept %q, want two different submissions once each", refs)
	}
	if n := city.Refused(); n != 0 {
		t.Errorf("%d posts had a bad signature", n)
	}
	reqs := city.Requests()
	if len(reqs) < 4 {
		t.Errorf("%d posts: the two failures and two deliveries should be there", len(reqs))
	}
	for _, q := range reqs {
		if err := intake.Verify([]byte(intakeSecret), q.Header.Get(intake.SignatureHeader), q.Body, time.Now(), time.Hour); err != nil {
			t.Errorf("post signature: %v", err)
		}
	}
	byChat := map[int64]bot.Submission{}
	for _, s := range subs {
		chat, _ := strconv.ParseInt(s.Conversation.ID, 10, 64)
		byChat[chat] = s
		if !strings.Contains(receipts[chat], s.Reference) || !strings.Contains(receipts[chat], "HN-") {
			t.Errorf("receipt notice %q lacks the reference %s or the city's id", receipts[chat], s.Reference)
		}
	}

	// The city accepts the Vietnamese proposal.
	body := []byte(`{"event_id":"city-1","reference":"` + byChat[vi.chat].Reference +
		`","status":"accepted","message":{"vi":"Sẽ lắp 20 ghế trong quý I.","en":"20 benches in Q1."}}`)
	for range 2 { // the city retries its callback: the citizen hears it once
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/callbacks/intake", bytes.NewReader(body))
		req.Header.Set(intake.SignatureHeader, intake.Sign([]byte(intakeSecret), time.Now(), body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("callback answered %d", resp.StatusCode)
		}
	}
	waitSent(t, api, vi.chat, "Sẽ lắp 20 ghế trong quý I.")

	// The media proxy, with the key every process shares through Redis (not one the
	// intake could make from INTAKE_SECRET).
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{7}, 700)...)
	api.AddFile("photo-e2e", "photos/file_9.jpg", jpeg)
	key, err := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: env["REDIS_PREFIX"]}).SharedKey(ctx, "media", 32)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := media.NewSigner(key, public, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	link, err := signer.Link(bot.Telegram, bot.Attachment{Kind: bot.Photo, Ref: "photo-e2e"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	resp, err := http.Get("http://" + addr + u.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(got, jpeg) {
		t.Errorf("media proxy: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
	}
	var headers strings.Builder
	for k, v := range resp.Header {
		headers.WriteString(k + ": " + strings.Join(v, ",") + "\n")
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	time.Sleep(50 * time.Millisecond) // let the last log lines through the pipe
	if n := len(sentTo(api, vi.chat)); n == 0 {
		t.Fatal("nothing was sent")
	}
	accepted := 0
	for _, m := range sentTo(api, vi.chat) {
		if strings.Contains(m, "Sẽ lắp 20 ghế") {
			accepted++
		}
	}
	if accepted != 1 {
		t.Errorf("the city's notice reached the citizen %d times, want once", accepted)
	}
	captured := logs.String() + headers.String() + link
	for _, q := range reqs {
		captured += string(q.Body)
	}
	if strings.Contains(captured, telegramtest.Token) {
		t.Errorf("the bot token appears in the logs, the media answer or the posts to the city")
	}
}
