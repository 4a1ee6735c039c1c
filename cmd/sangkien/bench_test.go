package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/integrations/telegram"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// benchChats is how many citizens write at once in the Telegram benchmarks.
const benchChats = 1000

// benchGateway is the engine, flows and Redis store of serve, on the test's Redis.
func benchGateway(b *testing.B) (*gateway, *telegramtest.Server, *telegram.Client) {
	b.Helper()
	return benchGatewayIn(b, newTestEnv(b))
}

// benchGatewayIn is benchGateway in env.
func benchGatewayIn(b *testing.B, env testEnv) (*gateway, *telegramtest.Server, *telegram.Client) {
	b.Helper()
	cfg, err := loadConfig(env.get)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := newGateway(cfg, log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = g.Close() })
	api := telegramtest.NewServer(b)
	client, err := telegram.NewClient(telegramtest.Token, api.Endpoint(), &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}, g.catalog, log)
	if err != nil {
		b.Fatal(err)
	}
	return g, api, client
}

// BenchmarkTelegramWebhook posts text updates from 1,000 chats at once to the webhook
// (secret check, parse, dedupe, lock, flows, one atomic commit with the queued replies)
// and reports updates per second and the latency to the 200 answer.
//
//	make bench BENCH=TelegramWebhook   (go test -run '^$' -bench TelegramWebhook -benchtime 20000x ./cmd/sangkien/)
func BenchmarkTelegramWebhook(b *testing.B) {
	g, _, client := benchGateway(b)
	wh, err := telegram.NewWebhook(telegram.Config{Secret: tgSecret, Client: client, Handler: g.engine, Albums: g.store.Albums(), Logger: g.log})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(wh)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchChats, MaxConnsPerHost: benchChats}}

	var next atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	texts := []string{"/start", "xin chào", "1", "menu", "trợ giúp"}
	b.ResetTimer()
	var wg sync.WaitGroup
	for c := range benchChats {
		wg.Go(func() {
			id := 0
			citizen := tgCitizen{chat: int64(10_000_000 + c), lang: "vi", nextID: &id}
			for n := 0; next.Add(1) <= int64(b.N); n++ {
				id = c*1_000_000 + n
				body := citizen.text(texts[n%len(texts)])
				start := time.Now()
				req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", tgSecret)
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				d := time.Since(start)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "updates/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkTelegramFanOut queues replies to 1,000 chats and measures how fast the
// dispatcher empties the queue into a fake Bot API that sets no limits.
//
//	make bench BENCH=TelegramFanOut   (go test -run '^$' -bench TelegramFanOut -benchtime 20000x ./cmd/sangkien/)
func BenchmarkTelegramFanOut(b *testing.B) {
	g, api, client := benchGateway(b)
	ctx := context.Background()
	per := max(1, b.N/benchChats)
	total := 0
	for c := range benchChats {
		if total >= b.N {
			break
		}
		conv := bot.ConversationRef{Channel: bot.Telegram, ID: strconv.Itoa(20_000_000 + c)}
		lease, err := g.store.Begin(ctx, conv, "fan-"+strconv.Itoa(c), time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		var out []bot.Outbound
		for i := 0; i < per && total < b.N; i++ {
			out = append(out, bot.Outbound{ID: conv.ID + "/" + strconv.Itoa(i), Conversation: conv, Lang: "vi",
				Reply: bot.Reply{Text: "Thông báo số " + strconv.Itoa(i)}})
			total++
		}
		if err := g.store.Commit(ctx, lease, bot.Change{Session: lease.Session, Replies: out}); err != nil {
			b.Fatal(err)
		}
	}
	d, err := bot.NewDispatcher(bot.DispatcherConfig{
		Channel: bot.Telegram, Queue: g.store.Delivery().Sender(bot.Telegram, "bench", redisstore.SenderOptions{}),
		Limiter: g.store.Delivery(), Sender: client, Limit: 1 << 30, ChatInterval: time.Nanosecond, ChatBurst: 1 << 20, Batch: 200,
	})
	if err != nil {
		b.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	b.ResetTimer()
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(rctx) }()
	for len(api.Calls("sendMessage")) < total {
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "replies/s")
}
