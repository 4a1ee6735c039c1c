package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

var (
	throughputInFlight = flag.Int("inflight", 64, "BenchmarkWebhookThroughput: webhook requests in flight")
	benchProcs         = flag.Int("procs", 1, "BenchmarkWebhookThroughput and BenchmarkCitizensWaitForReplies: serve processes sharing the load (and Redis)")
)

// BenchmarkWebhookThroughput is how many Telegram updates a second the gateway takes
// when -inflight requests are always in flight, each chat posting a whole proposal
// (15 updates, one after another), and what they cost. It runs -procs `sangkien serve`
// processes of their own (webhook mode, on the test's Redis: REDIS_URL, a cluster too)
// against a fake Bot API in this process; chat c goes to process c mod -procs, as a
// balancer that keeps a chat on one process would not need to (any process may take any
// update). The run ends when every reply was delivered at the fake: updates/s counts from
// the first post to the last reply. It reports the CPU (user + system) of the serve
// processes, of Redis and of this process (the load and the fake: load-cpu) over the
// run per update, each process's updates and peak RSS,
// and checks that every chat got the same replies in the same order (nothing lost,
// doubled or reordered). With SANGKIEN_TEST_CHILD_CPUPROFILE=file the (last) process
// writes its CPU profile there. -benchtime is the number of updates:
//
//	go test -run '^$' -bench WebhookThroughput -benchtime 32000x ./cmd/sangkien/
//	go test -run '^$' -bench WebhookThroughput -benchtime 32000x ./cmd/sangkien/ -procs 2
func BenchmarkWebhookThroughput(b *testing.B) {
	api := telegramtest.NewServer(b)
	api.Keep = 1000 // the front keeps what the benchmark reads
	front := newTelegramFront(b, api)
	rc := redistest.Client(b)
	base := newTestEnv(b).set("BULK_QUIET_HOURS", "none")
	// A chat's replies as fast as the gateway sends them: the fake sets no limit, and a
	// pace of one a second per chat would make the run a test of waiting.
	procs := startGateways(b, front, base, *benchProcs, "TELEGRAM_CHAT_INTERVAL", "1ms")
	st := redisstore.New(rc, redisstore.Options{Prefix: base["REDIS_PREFIX"]})
	ctx := context.Background()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *throughputInFlight}}

	posted := make([]atomic.Int64, len(procs))
	cpu0 := procsCPU(b, procs)
	redis0 := redisCPU(b, ctx, rc)
	load0 := selfCPU(b)
	b.ResetTimer()
	chats := postProposals(b, hc, api, func(c int64) string { return procs[int(c)%len(procs)].addr }, func(c int64) {
		posted[int(c)%len(procs)].Add(1)
	})
	// Every reply delivered: the reply lanes empty, and no new send for a moment.
	for last := -1; ; {
		stats, err := st.QueueStats(ctx, []bot.Channel{bot.Telegram})
		if err != nil {
			b.Fatal(err)
		}
		n := front.count()
		if stats[0].Depth == 0 && n == last {
			break
		}
		last = n
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := b.Elapsed() - 50*time.Millisecond // the last quiet look
	b.StopTimer()
	updates := float64(b.N)
	gw := procsCPU(b, procs) - cpu0
	rd := redisCPU(b, ctx, rc) - redis0
	load := selfCPU(b) - load0
	b.ReportMetric(updates/elapsed.Seconds(), "updates/s")
	b.ReportMetric(float64(front.count())/elapsed.Seconds(), "replies/s")
	b.ReportMetric(float64(gw.Microseconds())/updates, "gw-cpu-µs/update")
	b.ReportMetric(float64(rd.Microseconds())/updates, "redis-cpu-µs/update")
	b.ReportMetric(float64((gw+rd).Microseconds())/updates, "cpu-µs/update")
	b.ReportMetric(float64(load.Microseconds())/updates, "load-cpu-µs/update")
	b.ReportMetric(0, "ns/op")
	// go test runs a benchmark once with b.N 1 before the run asked for: too short to
	// say anything of.
	if b.N >= len(benchProposal(tgCitizen{nextID: new(int)})) {
		for i, p := range procs {
			fmt.Fprintf(b.Output(), "%s: %d updates (%.0f/s), peak RSS %d MiB\n", p.name, posted[i].Load(),
				float64(posted[i].Load())/elapsed.Seconds(), peakRSS(b, p)>>20)
		}
		checkSameReplies(b, front.sends(), chats)
	}
	for _, p := range procs {
		p.stop(b) // SIGTERM: a clean stop, and the child's CPU profile written
	}
}

// BenchmarkWebhookFloor is what BenchmarkWebhookThroughput's load costs the machine
// with a gateway that does the least one can: the same posts (64 in flight, the whole
// proposal per chat) and the same fake Bot API, to a stand-in in this process that
// checks the secret, decodes the update, answers 200 and sends one reply per update
// through the fake's sendMessage (JSON, as the gateway's client does), with no engine
// and no Redis. The gateway's work is all of that and more, so on one machine its
// updates/s cannot go above this one's, nor its CPU per update (gateway, Redis and load
// together) below it: it says how far the machine, not the code, lets the throughput go.
//
//	go test -run '^$' -bench WebhookFloor -benchtime 32000x ./cmd/sangkien/
func BenchmarkWebhookFloor(b *testing.B) {
	api := telegramtest.NewServer(b)
	api.Keep = 1000
	var sent atomic.Int64
	api.OnCall = func(_ *http.Request, call telegramtest.Request) {
		if call.Method == "sendMessage" {
			sent.Add(1)
		}
	}
	replies := make(chan int64, 4096)
	send := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *throughputInFlight}}
	sendURL := api.URL + "/bot" + api.Token + "/sendMessage"
	var senders sync.WaitGroup
	for range *throughputInFlight {
		senders.Go(func() {
			for chat := range replies {
				body, _ := json.Marshal(struct {
					ChatID int64  `json:"chat_id"`
					Text   string `json:"text"`
				}{chat, "Cảm ơn bạn."})
				resp, err := send.Post(sendURL, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("sendMessage answered %d", resp.StatusCode)
				}
			}
		})
	}
	standIn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Telegram-Bot-Api-Secret-Token") != tgSecret {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		var u struct {
			Message *struct {
				Chat struct{ ID int64 } `json:"chat"`
			} `json:"message"`
			CallbackQuery *struct {
				Message struct {
					Chat struct{ ID int64 } `json:"chat"`
				} `json:"message"`
			} `json:"callback_query"`
		}
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		switch {
		case u.Message != nil:
			replies <- u.Message.Chat.ID
		case u.CallbackQuery != nil:
			replies <- u.CallbackQuery.Message.Chat.ID
		default:
			http.Error(w, "no chat in the update", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer standIn.Close()
	addr := strings.TrimPrefix(standIn.URL, "http://")
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *throughputInFlight}}
	cpu0 := selfCPU(b)
	b.ResetTimer()
	postProposals(b, hc, api, func(int64) string { return addr }, func(int64) {})
	close(replies)
	senders.Wait()
	elapsed := b.Elapsed()
	b.StopTimer()
	if n := sent.Load(); n != int64(b.N) {
		b.Fatalf("%d replies at the fake for %d updates", n, b.N)
	}
	cpu := selfCPU(b) - cpu0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/update")
	b.ReportMetric(0, "ns/op")
}

// postProposals posts b.N updates with -inflight always in flight, each chat (40,000,000
// on) a whole proposal in order, chat c's to addr(c), calling posted(c) after each; it
// returns how many chats it began.
func postProposals(b *testing.B, hc *http.Client, api *telegramtest.Server, addr func(c int64) string, posted func(c int64)) int {
	var nextChat, remaining atomic.Int64
	remaining.Store(int64(b.N))
	var wg sync.WaitGroup
	for range *throughputInFlight {
		wg.Go(func() {
			for {
				c := nextChat.Add(1) - 1
				id := int(c) * 100
				for _, u := range benchProposal(tgCitizen{chat: 40_000_000 + c, lang: "vi", nextID: &id}) {
					if remaining.Add(-1) < 0 {
						return
					}
					if err := postLoad(hc, api, addr(c), u); err != nil {
						b.Error(err)
						return
					}
					posted(c)
				}
			}
		})
	}
	wg.Wait()
	return int(nextChat.Load())
}

// benchProposal is the whole proposal the benchmarks' citizens send, from /start to
// the reference code: every answer long enough for its step.
func benchProposal(c tgCitizen) [][]byte {
	return c.proposal("Thêm cây xanh trên phố Huế", "Phố Huế nắng nóng, ít bóng mát cho người đi bộ; cần trồng thêm cây dọc vỉa hè.",
		"Phố mát hơn, người dân đi bộ nhiều hơn.", "Trần Văn Minh")
}

// checkSameReplies fails unless every chat that posted a whole proposal got the same
// replies, in the same order, as every other (reference codes aside): a reply lost,
// sent twice or out of order shows as a chat that differs.
func checkSameReplies(b *testing.B, sends []frontSend, chats int) {
	b.Helper()
	code := regexp.MustCompile(`SK-\d{4}-\d+`)
	byChat := map[string][]string{}
	for _, s := range sends {
		byChat[s.chat] = append(byChat[s.chat], code.ReplaceAllString(s.text, "SK-…"))
	}
	// The first chat is whole unless the run was shorter than one proposal; the last
	// ones may have stopped midway.
	want := byChat["40000000"]
	whole, differ := 0, 0
	for c := range chats {
		got := byChat[strconv.Itoa(40_000_000+c)]
		if len(got) < len(want) {
			continue
		}
		whole++
		if !slices.Equal(got, want) {
			differ++
			if differ <= 3 {
				b.Errorf("chat %d got %d replies that differ from chat 40000000's %d", 40_000_000+c, len(got), len(want))
			}
		}
	}
	if whole == 0 || len(want) == 0 {
		b.Fatalf("no chat finished a proposal (%d sends)", len(sends))
	}
	if !strings.Contains(want[len(want)-1], "SK-…") {
		b.Fatalf("chat 40000000's last reply %q gives no reference code: the proposal was not sent", want[len(want)-1])
	}
	fmt.Fprintf(b.Output(), "%d chats with a whole proposal, %d replies each, %d differ\n", whole, len(want), differ)
}

// procsCPU is the user and system time the processes have used so far.
func procsCPU(b *testing.B, procs []*serveProcess) time.Duration {
	var sum time.Duration
	for _, p := range procs {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
		if err != nil {
			b.Fatal(err)
		}
		// Fields after the command's name, which is in parentheses: utime and stime are
		// the 14th and 15th of the whole line, in clock ticks (100 a second on Linux).
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		for _, s := range f[11:13] {
			ticks, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			sum += time.Duration(ticks) * 10 * time.Millisecond
		}
	}
	return sum
}

// selfCPU is the user and system time this process (the benchmark's load and fakes)
// has used so far.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(b *testing.B, p *serveProcess) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}

// redisCPU is the CPU time (user + system) Redis has used so far, every master's
// together on a cluster.
func redisCPU(b *testing.B, ctx context.Context, rc redis.UniversalClient) time.Duration {
	var mu sync.Mutex
	var sum time.Duration
	add := func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "cpu").Result()
		if err != nil {
			return err
		}
		for line := range strings.Lines(info) {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
				s, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return err
				}
				mu.Lock()
				sum += time.Duration(s * float64(time.Second))
				mu.Unlock()
			}
		}
		return nil
	}
	var err error
	switch c := rc.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, add)
	case *redis.Client:
		err = add(ctx, c)
	default:
		b.Fatalf("redisCPU: a %T", rc)
	}
	if err != nil {
		b.Fatal(err)
	}
	return sum
}
