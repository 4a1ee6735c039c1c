//go:build faults

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/intake/intaketest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// The fault suite's rig: a private redis-server the suite starts, stops, pauses and
// kills; fronts before the fake Bot API and the fake intake that tell the gateway
// processes apart and record what each fake really took; a fleet of `serve` processes
// that a driver posts webhooks to as Telegram does (again and again until one answers
// 200); and the tally every scenario prints, counted from the fakes' records alone.

// full is FULL=1: the big runs (100 kills instead of 20, more citizens).
var full = os.Getenv("FULL") == "1"

// scale is n in CI, big with FULL=1.
func scale(n, big int) int {
	if full {
		return big
	}
	return n
}

// tally is what one scenario counts, from the fakes' records.
type tally struct {
	// Proposals is how many citizens' proposals were completed: every update of their
	// script answered 200 by a gateway.
	Proposals int
	// Received is the submissions the intake kept (one per submission id); Doubled, the
	// citizens with more than one (each extra counts), or an id the intake filed twice;
	// Lost, completed proposals the intake never got.
	Received, Doubled, Lost int
	// RepliesDoubled and RepliesMissing compare each chat's messages, as the fake Bot
	// API took them, with what a clean run sends for the same script.
	RepliesDoubled, RepliesMissing int
	// Kills is how many kill -9 the scenario made, of gateways or of Redis.
	Kills int
}

func (c tally) String() string {
	return fmt.Sprintf("proposals=%d received=%d doubled=%d lost=%d replies_doubled=%d replies_missing=%d kills=%d",
		c.Proposals, c.Received, c.Doubled, c.Lost, c.RepliesDoubled, c.RepliesMissing, c.Kills)
}

// report prints the scenario's line and fails the test unless it meets the goal: no
// submission lost or doubled, no reply missing, and at most one reply doubled per kill.
func (c tally) report(t *testing.T) {
	t.Helper()
	fmt.Printf("faults: %-40s %s\n", t.Name(), c)
	if c.Lost != 0 || c.Doubled != 0 {
		t.Errorf("submissions: %d lost, %d doubled; want none", c.Lost, c.Doubled)
	}
	if c.RepliesMissing != 0 {
		t.Errorf("%d replies missing; want none", c.RepliesMissing)
	}
	if c.RepliesDoubled > c.Kills {
		t.Errorf("%d replies doubled after %d kills; want at most one per kill", c.RepliesDoubled, c.Kills)
	}
	if c.Proposals == 0 {
		t.Error("no proposal was completed: the scenario proved nothing")
	}
}

// redisServer is a redis-server of the suite's own, on a port of 6400–6409, in a
// folder of the test's, with AOF (appendfsync everysec) when asked.
type redisServer struct {
	port int
	aof  bool
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedis(t *testing.T, port int, aof bool) *redisServer {
	t.Helper()
	r := &redisServer{port: port, aof: aof, dir: t.TempDir()}
	r.start(t)
	t.Cleanup(func() { r.kill() })
	return r
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) }

// start starts the server and waits until it answers PING (after loading its AOF).
func (r *redisServer) start(t *testing.T) {
	t.Helper()
	aof := "no"
	if r.aof {
		aof = "yes"
	}
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", aof, "--appendfsync", "everysec", "--dir", r.dir,
		"--logfile", filepath.Join(r.dir, "redis.log"))
	// A server left from an earlier run (a test binary killed by its timeout) would
	// answer in this one's place, with its old data.
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.port), time.Second); err == nil {
		c.Close()
		t.Fatalf("port %d is taken: stop what listens there (an earlier run's redis-server?)", r.port)
	}
	// It dies with the test binary, whatever ends it.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("redis-server: %v (is it installed?)", err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(r.cmd, r.done)
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port)})
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case <-r.done:
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			t.Fatalf("redis-server on port %d ended: %s", r.port, tail(string(log), 10))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d does not answer: %v", r.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// restart stops the server as an operator does (SIGTERM: Redis writes and fsyncs its
// AOF before it exits) and starts it again on the same folder.
func (r *redisServer) restart(t *testing.T) {
	t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	<-r.done
	r.start(t)
}

// pause stops the server (SIGSTOP) and resume lets it go on (SIGCONT): in between it
// takes connections into the kernel's backlog and answers nothing, as a Redis behind a
// broken network link or frozen by its host does.
func (r *redisServer) pause(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

func (r *redisServer) resume(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}

func (r *redisServer) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGCONT)
	_ = r.cmd.Process.Kill()
	<-r.done
}

// botFront stands before the fake Bot API: each gateway process is pointed at a path of
// its own, and one chat's sends can be made slow (the message is taken, the answer
// comes late) or answered with garbage (the message is not taken). It records each
// message the fake took, by chat.
type botFront struct {
	api *telegramtest.Server
	srv *httptest.Server

	mu      sync.Mutex
	taken   map[string][]string // chat → texts the fake took, in order
	slow    map[string]time.Duration
	garbage map[string]int // chat → sends still to answer with garbage
	pending map[string]int // chat → slow answers not given yet
}

func newBotFront(t *testing.T) *botFront {
	f := &botFront{api: telegramtest.NewServer(t), taken: map[string][]string{},
		slow: map[string]time.Duration{}, garbage: map[string]int{}, pending: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *botFront) endpoint(process string) string { return f.srv.URL + "/" + process + "/bot%s/%s" }

func (f *botFront) serve(w http.ResponseWriter, r *http.Request) {
	_, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	r.URL.Path = "/" + rest
	if !strings.HasSuffix(rest, "/sendMessage") {
		f.api.Config.Handler.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the sender died mid-request: Telegram never got it
	}
	peek := r.Clone(r.Context())
	peek.Body = io.NopCloser(bytes.NewReader(body))
	params, _ := telegramtest.ReadParams(peek)
	chat := params["chat_id"]
	f.mu.Lock()
	garbage := f.garbage[chat] > 0
	if garbage {
		f.garbage[chat]--
	}
	delay := f.slow[chat]
	f.mu.Unlock()
	if garbage {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	f.api.Config.Handler.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK {
		f.mu.Lock()
		f.taken[chat] = append(f.taken[chat], params["text"])
		f.mu.Unlock()
	}
	if delay > 0 {
		f.mu.Lock()
		f.pending[chat]++
		f.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
		f.mu.Lock()
		f.pending[chat]--
		f.mu.Unlock()
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// texts are the messages the fake took for chat.
func (f *botFront) texts(chat string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.taken[chat]...)
}

func (f *botFront) slowChat(chat string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slow[chat] = d
}

func (f *botFront) garbleChat(chat string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.garbage[chat] = n
}

func (f *botFront) slowPending(chat string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending[chat]
}

// intakeFront stands before a fake intake (signed JSON or Open311): each gateway posts
// under a path of its own, and the front counts the posts in flight by process, and
// notes when each post by submission id ended, and how.
type intakeFront struct {
	srv     *httptest.Server
	next    http.Handler
	mu      sync.Mutex
	flying  map[string]int
	answers []intakeAnswer
	// down, when set, is answered to every post in the server's place: a CRM down
	// behind the Open311 front end, say.
	down *intakeDown
}

// intakeDown is an answer the front gives while the system behind it is down.
type intakeDown struct {
	status int
	body   string
}

// breakWith answers status and body (JSON) to every post until fix.
func (f *intakeFront) breakWith(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = &intakeDown{status, body}
}

func (f *intakeFront) fix() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = nil
}

// intakeAnswer is one post to the intake as the front saw it end.
type intakeAnswer struct {
	key     string // Idempotency-Key (signed JSON) or attribute[submission_id] (Open311)
	status  int
	started time.Time
	ended   time.Time
}

func newIntakeFront(t *testing.T, next *httptest.Server) *intakeFront {
	f := &intakeFront{next: next.Config.Handler, flying: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// base is the intake's base URL for process.
func (f *intakeFront) base(process string) string { return f.srv.URL + "/" + process }

func (f *intakeFront) serve(w http.ResponseWriter, r *http.Request) {
	process, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	r.URL.Path = "/" + rest
	if r.Method != http.MethodPost {
		f.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		form, _ := url.ParseQuery(string(body))
		key = form.Get("attribute[submission_id]")
	}
	a := intakeAnswer{key: key, started: time.Now()}
	f.mu.Lock()
	f.flying[process]++
	down := f.down
	f.mu.Unlock()
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	if down != nil {
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(down.status)
		_, _ = io.WriteString(rec, down.body)
	} else {
		f.next.ServeHTTP(rec, r)
	}
	a.status, a.ended = rec.status, time.Now()
	f.mu.Lock()
	f.flying[process]--
	f.answers = append(f.answers, a)
	f.mu.Unlock()
}

// inFlight is a process that has a post to the intake under way, "" when none has.
func (f *intakeFront) inFlight() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p, n := range f.flying {
		if n > 0 {
			return p
		}
	}
	return ""
}

func (f *intakeFront) ended() []intakeAnswer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]intakeAnswer(nil), f.answers...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// fleet is the gateways of a scenario, all on one Redis, each restartable in its slot.
type fleet struct {
	t      *testing.T
	env    testEnv
	bot    *botFront
	intake *intakeFront
	// intakePath is added to each process's intake base ("/submissions" for signed JSON).
	intakePath string
	hc         *http.Client

	mu    sync.Mutex
	procs []*serveProcess // nil: that slot is down
	rng   *rand.Rand
}

// newFleet starts n gateways with env, their Bot API and intake behind the fronts
// (intakePath is added to the intake's base: "/submissions" for signed JSON).
func newFleet(t *testing.T, env testEnv, n int, bf *botFront, in *intakeFront, intakePath string, seed uint64) *fleet {
	f := &fleet{t: t, env: env, bot: bf, intake: in, intakePath: intakePath, procs: make([]*serveProcess, n),
		rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), hc: &http.Client{Timeout: 15 * time.Second}}
	for i := range n {
		f.start(i)
	}
	return f
}

func (f *fleet) name(i int) string { return "p" + strconv.Itoa(i+1) }

// start starts slot i's gateway.
func (f *fleet) start(i int) {
	f.t.Helper()
	name := f.name(i)
	env := f.env.set("TELEGRAM_BOT_TOKEN", telegramtest.Token, "TELEGRAM_WEBHOOK_SECRET", tgSecret,
		"TELEGRAM_API_ENDPOINT", f.bot.endpoint(name), "TELEGRAM_CHAT_INTERVAL", "5ms",
		"INTAKE_URL", f.intake.base(name)+f.intakePath)
	p := startProcess(f.t, name, env)
	f.mu.Lock()
	f.procs[i] = p
	f.mu.Unlock()
}

// kill9 kills slot i's gateway with SIGKILL.
func (f *fleet) kill9(i int) {
	f.t.Helper()
	f.mu.Lock()
	p := f.procs[i]
	f.procs[i] = nil
	f.mu.Unlock()
	if p != nil {
		p.kill9(f.t)
	}
}

// slot is the slot of the process named name, -1 if none.
func (f *fleet) slot(name string) int {
	for i := range f.procs {
		if f.name(i) == name {
			return i
		}
	}
	return -1
}

// stop stops every gateway cleanly: nothing is sent after it.
func (f *fleet) stop() {
	f.t.Helper()
	f.mu.Lock()
	procs := append([]*serveProcess(nil), f.procs...)
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		if p != nil {
			wg.Go(func() { p.stop(f.t) })
		}
	}
	wg.Wait()
}

func (f *fleet) intn(n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.IntN(n)
}

// live is the address of a running gateway picked at random, "" when none runs.
func (f *fleet) live() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var addrs []string
	for _, p := range f.procs {
		if p != nil {
			addrs = append(addrs, p.addr)
		}
	}
	if len(addrs) == 0 {
		return ""
	}
	return addrs[f.rng.IntN(len(addrs))]
}

// post delivers one webhook as Telegram does: to a gateway, again and again (a short
// pause between) until one answers 200. It reports false when none did within a
// generous limit, a guard against a hung test.
func (f *fleet) post(body []byte) bool {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if addr := f.live(); addr != "" {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/telegram", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", tgSecret)
			if resp, err := f.hc.Do(req); err == nil {
				status := resp.StatusCode
				// Telegram runs the method an answer names (a button's answerCallbackQuery).
				if err := f.bot.api.WebhookResponse(resp); err != nil {
					f.t.Error(err)
				}
				if status == http.StatusOK {
					return true
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// citizenBase is the first chat id of the suite's citizens.
const citizenBase = 61_000_000

// citizen is one citizen's proposal, as Telegram updates.
func citizen(chat int64) [][]byte {
	id := int(chat-citizenBase)*100 + 1_000_000
	c := tgCitizen{chat: chat, lang: "vi", nextID: &id}
	return c.proposal("Ghế đá quanh hồ Tây số "+strconv.FormatInt(chat, 10), "Quanh hồ Tây thiếu chỗ ngồi nghỉ cho người đi bộ và người cao tuổi vào buổi chiều.",
		"Người dân có chỗ nghỉ chân, hồ Tây thân thiện hơn.", "Nguyễn Thị Lan")
}

// helpUpdates are n "/help" messages in one chat.
func helpUpdates(chat int64, n int) [][]byte {
	id := 9_000_000
	c := tgCitizen{chat: chat, lang: "vi", nextID: &id}
	out := make([][]byte, n)
	for i := range out {
		out[i] = c.text("/help")
	}
	return out
}

// delivery is how the driver hands one citizen's updates to the fleet.
type delivery func(f *fleet, updates [][]byte) bool

// inOrder posts each update once, in order.
func inOrder(f *fleet, updates [][]byte) bool {
	for _, u := range updates {
		if !f.post(u) {
			return false
		}
	}
	return true
}

// paced posts each update once, in order, a pause between: a citizen typing.
func paced(pause time.Duration) delivery {
	return func(f *fleet, updates [][]byte) bool {
		for _, u := range updates {
			if !f.post(u) {
				return false
			}
			time.Sleep(pause)
		}
		return true
	}
}

// thrice posts every update three times, the copies out of order within a window of
// three: update k first, with the second copy of k-1 and the third of k-2 on the way
// at the same time, each to a gateway picked at random. Update k is posted only
// after an earlier copy of k-1 was answered 200, as a citizen answers what the bot
// asked.
func thrice(f *fleet, updates [][]byte) bool {
	ok := true
	var wg sync.WaitGroup
	var mu sync.Mutex
	for k := range len(updates) + 2 {
		for _, j := range []int{k - 1, k - 2} {
			if j >= 0 && j < len(updates) {
				wg.Go(func() {
					if !f.post(updates[j]) {
						mu.Lock()
						ok = false
						mu.Unlock()
					}
				})
			}
		}
		if k < len(updates) && !f.post(updates[k]) {
			return false
		}
	}
	wg.Wait()
	return ok
}

// citizens runs n citizens' proposals, chats from first on, par at a time, until all
// are done or more() says to start no more (after at least min of them); it returns
// the chats whose proposals were completed.
func (f *fleet) citizens(first int64, n, par int, how delivery, more func(started int) bool) []int64 {
	var mu sync.Mutex
	var done []int64
	next := 0
	var wg sync.WaitGroup
	for range par {
		wg.Go(func() {
			for {
				mu.Lock()
				if next >= n || (more != nil && !more(next)) {
					mu.Unlock()
					return
				}
				chat := first + int64(next)
				next++
				mu.Unlock()
				if how(f, citizen(chat)) {
					mu.Lock()
					done = append(done, chat)
					mu.Unlock()
				} else {
					f.t.Errorf("chat %d: a webhook was never answered 200", chat)
				}
			}
		})
	}
	wg.Wait()
	sort.Slice(done, func(i, j int) bool { return done[i] < done[j] })
	return done
}

// foldDigits finds what is folded in the replies compared: every word with a digit
// (references, intake ids, counts), which differ by chat and by intake.
var foldDigits = regexp.MustCompile(`[A-Za-z0-9-]*[0-9][A-Za-z0-9-]*`)

func fold(texts []string) map[string]int {
	out := map[string]int{}
	for _, s := range texts {
		out[foldDigits.ReplaceAllString(s, "#")]++
	}
	return out
}

// replyDiff names, shortened, the folded replies chat got too often or too rarely.
func replyDiff(got []string, want map[string]int) string {
	g := fold(got)
	var out []string
	short := func(s string) string {
		if r := []rune(s); len(r) > 50 {
			return string(r[:50]) + "…"
		}
		return s
	}
	for s, n := range want {
		if g[s] != n {
			out = append(out, fmt.Sprintf("%q got %d want %d", short(s), g[s], n))
		}
	}
	for s, n := range g {
		if _, ok := want[s]; !ok {
			out = append(out, fmt.Sprintf("%q got %d want 0", short(s), n))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// compare counts the replies chat got beyond want, and those it lacks.
func compare(got []string, want map[string]int) (doubled, missing int) {
	g := fold(got)
	for s, n := range want {
		missing += max(0, n-g[s])
		doubled += max(0, g[s]-n)
	}
	for s, n := range g {
		if _, ok := want[s]; !ok {
			doubled += n // a message a clean run never sends: counted as one too many
		}
	}
	return doubled, missing
}

// baseline is what a clean run sends: to a citizen for a whole proposal (the receipt
// notice included), and for one /help.
type baselineReplies struct {
	proposal, help map[string]int
}

var (
	baselineOnce sync.Once
	baseline     baselineReplies
)

// learnBaseline runs one citizen's proposal and one /help through a gateway with
// nothing wrong, on a Redis of its own (port 6409, free again after), and keeps the messages the fake
// Bot API took, once for the whole suite.
func learnBaseline(t *testing.T) baselineReplies {
	t.Helper()
	baselineOnce.Do(func() {
		rs := startRedis(t, 6409, false)
		bf := newBotFront(t)
		city := intaketest.NewJSONServer(t, intakeSecret)
		f := newFleet(t, faultEnv(t, rs, "base"), 1, bf, newIntakeFront(t, city.Server), "/submissions", 1)
		chat, help := int64(citizenBase), int64(citizenBase-1)
		if !inOrder(f, citizen(chat)) || !inOrder(f, helpUpdates(help, 1)) {
			t.Fatal("baseline: a webhook was never answered 200")
		}
		waitFor(t, 30*time.Second, 20*time.Millisecond, "the baseline's receipt notice", func() bool {
			for _, s := range bf.texts(strconv.FormatInt(chat, 10)) {
				if strings.Contains(s, "Trạng thái mới: Đã tiếp nhận") {
					return true
				}
			}
			return false
		})
		waitFor(t, 30*time.Second, 20*time.Millisecond, "the baseline's help", func() bool {
			return len(bf.texts(strconv.FormatInt(help, 10))) > 0
		})
		f.stop()
		rs.kill() // its port is a scenario's
		baseline = baselineReplies{proposal: fold(bf.texts(strconv.FormatInt(chat, 10))), help: fold(bf.texts(strconv.FormatInt(help, 10)))}
		if len(baseline.proposal) < 10 || len(city.Submissions()) != 1 {
			t.Fatalf("baseline: %d replies, %d submissions", len(baseline.proposal), len(city.Submissions()))
		}
		t.Logf("baseline: a proposal is answered with %d messages, /help with %d",
			len(bf.texts(strconv.FormatInt(chat, 10))), len(bf.texts(strconv.FormatInt(help, 10))))
	})
	if baseline.proposal == nil {
		t.Fatal("the baseline run failed")
	}
	return baseline
}

// faultEnv is a gateway's environment on rs, with a key prefix of its own.
func faultEnv(t *testing.T, rs *redisServer, prefix string) testEnv {
	return testEnv{
		"REDIS_URL":           rs.url(),
		"REDIS_PREFIX":        "faults-" + prefix,
		"HTTP_ADDR":           "127.0.0.1:0",
		"INTAKE_URL":          "", // set by the fleet, per process
		"INTAKE_SECRET":       intakeSecret,
		"BROADCAST_REMINDERS": "off",
		"BULK_QUIET_HOURS":    "none",
		"LOG_LEVEL":           "info",
	}
}

// expect is what each chat should have got and the intake should have kept.
type expect struct {
	proposals []int64       // chats that completed a proposal
	extra     map[int64]int // chats with that many /help besides
	// notice, when set, is part of one message each proposal's chat gets besides those
	// of a clean run (the notice that the city's system refused it, say).
	notice string
}

// want is what the proposal's chat should have got, given what it got.
func (e expect) want(b baselineReplies, got []string) map[string]int {
	if e.notice == "" {
		return b.proposal
	}
	out := times(b.proposal, 1)
	for _, s := range got {
		if strings.Contains(strings.ToLower(s), strings.ToLower(e.notice)) {
			out[foldDigits.ReplaceAllString(s, "#")]++
			return out
		}
	}
	out["(a message with "+e.notice+")"]++
	return out
}

// settle waits until every chat has the replies a clean run sends and the intake has a
// submission of every completed proposal, or a generous limit passes (a guard, not a
// timing assertion: what is still missing then is counted), and stops the fleet.
func (f *fleet) settle(want expect, b baselineReplies, kept func() []bot.Submission) {
	f.t.Helper()
	complete := func() bool {
		subs := map[string]bool{}
		for _, s := range kept() {
			subs[s.Conversation.ID] = true
		}
		for _, chat := range want.proposals {
			c := strconv.FormatInt(chat, 10)
			if !subs[c] {
				return false
			}
			got := f.bot.texts(c)
			if _, missing := compare(got, want.want(b, got)); missing > 0 {
				return false
			}
		}
		for chat, n := range want.extra {
			if _, missing := compare(f.bot.texts(strconv.FormatInt(chat, 10)), times(b.help, n)); missing > 0 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(90 * time.Second)
	for !complete() && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	f.stop()
}

func times(m map[string]int, n int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v * n
	}
	return out
}

// count is the tally from the fakes' records: kept holds the intake's submissions, one
// per submission id as the intake kept them, and filed how many times each id was filed
// (more than once only where the intake does not keep one per id).
func (f *fleet) count(want expect, b baselineReplies, kept []bot.Submission, filed map[string]int, kills int) tally {
	c := tally{Proposals: len(want.proposals), Received: len(kept), Kills: kills}
	byChat := map[string]int{}
	for _, s := range kept {
		byChat[s.Conversation.ID]++
	}
	for _, n := range filed {
		c.Doubled += max(0, n-1)
	}
	for _, n := range byChat {
		c.Doubled += max(0, n-1)
	}
	for _, chat := range want.proposals {
		cs := strconv.FormatInt(chat, 10)
		if byChat[cs] == 0 {
			c.Lost++
		}
		got := f.bot.texts(cs)
		d, m := compare(got, want.want(b, got))
		c.RepliesDoubled += d
		c.RepliesMissing += m
		if d+m > 0 {
			f.t.Logf("chat %s: %d doubled, %d missing: %s", cs, d, m, replyDiff(got, want.want(b, got)))
		}
	}
	for chat, n := range want.extra {
		d, m := compare(f.bot.texts(strconv.FormatInt(chat, 10)), times(b.help, n))
		c.RepliesDoubled += d
		c.RepliesMissing += m
	}
	return c
}

// chatMark finds the chat in a submission's text: each citizen's title ends with it.
var chatMark = regexp.MustCompile(`hồ Tây số ([0-9]+)`)

// open311Kept reads an Open311 server's records as submissions: one per request filed,
// its chat read from its text, and how many times each submission id was filed (the
// server files a repeated POST again, as most do).
func open311Kept(city *intaketest.Open311Server) ([]bot.Submission, map[string]int) {
	var subs []bot.Submission
	filed := map[string]int{}
	for _, form := range city.Requests() {
		id := form.Get("attribute[submission_id]")
		if filed[id]++; filed[id] > 1 {
			continue
		}
		s := bot.Submission{ID: id, Conversation: bot.ConversationRef{Channel: bot.Telegram}}
		for _, vs := range form {
			for _, v := range vs {
				if m := chatMark.FindStringSubmatch(v); m != nil {
					s.Conversation.ID = m[1]
				}
			}
		}
		subs = append(subs, s)
	}
	return subs, filed
}
