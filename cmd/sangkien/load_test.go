package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/telegram"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

var (
	loadCitizens = flag.Int("citizens", 200, "BenchmarkCitizensWaitForReplies: citizens writing at once")
	loadDuration = flag.Duration("duration", 20*time.Second, "BenchmarkCitizensWaitForReplies: how long they write")
	loadThink    = flag.Duration("think", 2*time.Second, "BenchmarkCitizensWaitForReplies: a citizen's mean pause after each reply")
	loadBulk     = flag.Int("broadcast", 0, "BenchmarkCitizensWaitForReplies: the recipients of a broadcast running meanwhile (0: none)")
)

// lostAfter is how long a citizen waits for a reply before the turn counts as lost.
const lostAfter = 10 * time.Second

// BenchmarkCitizensWaitForReplies is the reply latency a citizen feels when many write
// at once. It runs -procs `sangkien serve` processes of their own (webhook mode, on the
// test's Redis: REDIS_URL, a cluster too) against a fake Bot API in this process; each
// citizen posts a step of a proposal to the webhook of one of them (citizen c to process
// c mod -procs), waits for the bot's first reply at the fake API, thinks about -think
// (±25%), and posts the next step, proposal after proposal, for -duration. It reports
// turns per second, the latency from posting an update to the first sendMessage for that
// chat (p50, p99, max), turns with no reply within 10 s (lost), and each process's
// turns, CPU per turn and peak RSS. Run it once (-benchtime 1x):
//
//	go test -run '^$' -bench CitizensWaitForReplies -benchtime 1x ./cmd/sangkien/ -citizens 4000 -duration 60s
//
// With -broadcast N, N other citizens are made first, and a broadcast to them is fanned
// out and sent (TELEGRAM_BULK_RATE) while the citizens write: replies must not wait
// behind it.
func BenchmarkCitizensWaitForReplies(b *testing.B) {
	api := telegramtest.NewServer(b)
	api.Keep = 1000 // the front keeps what the benchmark reads
	replies := newReplyWatch()
	// The fake sees every call first through the front, which notes when a chat's
	// message arrived, then answers as the Bot API does.
	front := newTelegramFront(b, api)
	front.sent = replies.arrived
	env := newTestEnv(b).set("BULK_QUIET_HOURS", "none")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bulk, bulkSent := seedBroadcast(b, ctx, env, *loadBulk)
	procs := startGateways(b, front, env, *benchProcs)
	bulk()
	sentBefore := bulkSent()
	// As Telegram posts: over at most the max_connections that setWebhook asked for,
	// each process's own; an update waits for a free one, and that wait is counted.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: telegram.MaxConnections,
		MaxConnsPerHost: telegram.MaxConnections}, Timeout: lostAfter}
	cpu0 := make([]time.Duration, len(procs))
	for i, p := range procs {
		cpu0[i] = procsCPU(b, []*serveProcess{p})
	}
	posted := make([]atomic.Int64, len(procs))

	var turns, lost atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	stop := time.Now().Add(*loadDuration)
	b.ResetTimer()
	var wg sync.WaitGroup
	for c := range *loadCitizens {
		wg.Go(func() {
			id := c * 1_000_000
			citizen := tgCitizen{chat: int64(30_000_000 + c), lang: []string{"vi", "en"}[c%2], nextID: &id}
			chat := strconv.FormatInt(citizen.chat, 10)
			p := c % len(procs)
			// Citizens do not all start at the same instant.
			time.Sleep(rand.N(*loadThink))
			for time.Now().Before(stop) {
				for _, update := range benchProposal(citizen) {
					if !time.Now().Before(stop) {
						return
					}
					wait := replies.expect(chat)
					start := time.Now()
					if err := postLoad(hc, api, procs[p].addr, update); err != nil {
						b.Error(err)
						return
					}
					posted[p].Add(1)
					select {
					case <-wait:
						d := time.Since(start)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
						turns.Add(1)
					case <-time.After(lostAfter):
						lost.Add(1)
					}
					think := *loadThink * 3 / 4
					time.Sleep(think + rand.N(*loadThink/2+1))
				}
			}
		})
	}
	wg.Wait()
	elapsed := b.Elapsed()
	b.StopTimer()
	if *loadBulk > 0 {
		b.ReportMetric(float64(bulkSent()-sentBefore)/elapsed.Seconds(), "bulk/s")
	}
	for i, p := range procs {
		cpu := procsCPU(b, []*serveProcess{p}) - cpu0[i]
		fmt.Fprintf(b.Output(), "%s: %d turns (%.0f/s), %.0f µs CPU per turn, peak RSS %d MiB\n", p.name, posted[i].Load(),
			float64(posted[i].Load())/elapsed.Seconds(), float64(cpu.Microseconds())/float64(max(posted[i].Load(), 1)), peakRSS(b, p)>>20)
		p.stop(b)
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no turn was answered")
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(turns.Load())/elapsed.Seconds(), "turns/s")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(lost.Load()), "lost")
	b.ReportMetric(0, "ns/op")
	fmt.Fprintf(b.Output(), "%d citizens, %v: %d turns answered, %d lost\n", *loadCitizens, *loadDuration, turns.Load(), lost.Load())
}

// seedBroadcast makes n Telegram citizens in env's Redis (through the engine, as their
// first messages would) and returns a start that creates a broadcast to everyone
// subscribed and waits until it is fanned out, and sent, how many of it were sent;
// with n 0, they do nothing.
func seedBroadcast(b *testing.B, ctx context.Context, env testEnv, n int) (start func(), sent func() int64) {
	if n == 0 {
		return func() {}, func() int64 { return 0 }
	}
	st := redisstore.New(redistest.Client(b), redisstore.Options{Prefix: env["REDIS_PREFIX"]})
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: silentFlows{}})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				ev := bot.Event{ID: fmt.Sprint("seed-", i), Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: fmt.Sprint(500_000_000 + i)},
					Kind: bot.EventText, Text: "xin chào", Lang: "vi", At: time.Now()}
				if _, err := e.Handle(ctx, ev); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	sent = func() int64 {
		p, err := st.BroadcastProgress(ctx, "load")
		if err != nil {
			b.Fatal(err)
		}
		return p.Sent
	}
	return func() {
		bc := bot.Broadcast{ID: "load", Audience: bot.AudienceQuery{Kind: bot.AudienceSubscribed}, Text: bot.Text{VI: "📣 Thông báo thử"},
			At: time.Now(), Created: time.Now(), State: bot.BroadcastScheduled}
		if err := st.SaveBroadcast(ctx, bc); err != nil {
			b.Fatal(err)
		}
		for {
			got, err := st.Broadcast(ctx, "load")
			if err != nil {
				b.Fatal(err)
			}
			if got.State == bot.BroadcastQueued {
				p, _ := st.BroadcastProgress(ctx, "load")
				fmt.Fprintf(b.Output(), "broadcast to %d citizens fanned out; sending meanwhile\n", p.Queued)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}, sent
}

// silentFlows answer nothing: the seeded citizens only need to be in the audiences.
type silentFlows struct{}

func (silentFlows) Respond(context.Context, *bot.Session, bot.Event) (bot.Result, error) {
	return bot.Result{Silent: true}, nil
}

// replyWatch tells a waiting citizen when the bot's next message to their chat arrives.
type replyWatch struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
}

func newReplyWatch() *replyWatch { return &replyWatch{waiting: map[string]chan struct{}{}} }

// expect returns a channel closed when the next message to chat arrives. Messages
// that arrive while nobody waits (the rest of an earlier turn's replies) are ignored.
func (w *replyWatch) expect(chat string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := make(chan struct{})
	w.waiting[chat] = ch
	return ch
}

func (w *replyWatch) arrived(chat string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch := w.waiting[chat]; ch != nil {
		close(ch)
		delete(w.waiting, chat)
	}
}

// postLoad delivers one update as postUpdate does, with hc.
func postLoad(hc *http.Client, api *telegramtest.Server, addr string, body []byte) error {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/telegram", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", tgSecret)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	status := resp.StatusCode
	if err := api.WebhookResponse(resp); err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("webhook answered %d", status)
	}
	return nil
}
