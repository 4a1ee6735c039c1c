package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// This file runs `sangkien serve` as a real process of its own, for the tests that kill
// one with SIGKILL or run several side by side: the test binary starts itself again
// with serveChildVar set, and TestMain turns that copy into the gateway, main and all.

// serveChildVar makes the test binary run `sangkien serve` instead of its tests.
const serveChildVar = "SANGKIEN_TEST_SERVE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(serveChildVar) == "1" {
		os.Args = []string{os.Args[0], "serve"}
		stop := childProfile()
		main() // exits 1 itself on an error
		stop()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childProfileVar and childHeapVar name files for a child gateway's CPU profile, from
// its start until it stops on SIGTERM, and its heap profile as it stops (go tool pprof
// reads them with the test binary).
const (
	childProfileVar = "SANGKIEN_TEST_CHILD_CPUPROFILE"
	childHeapVar    = "SANGKIEN_TEST_CHILD_HEAPPROFILE"
)

// childProfile starts the child's CPU profile when childProfileVar asks for one, and
// returns what stops it and writes the heap profile childHeapVar asks for.
func childProfile() (stop func()) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child profile:", err)
		os.Exit(1)
	}
	cpu := func() {}
	if path := os.Getenv(childProfileVar); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fail(err)
		}
		cpu = func() { pprof.StopCPUProfile(); _ = f.Close() }
	}
	return func() {
		cpu()
		if path := os.Getenv(childHeapVar); path != "" {
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup("heap").WriteTo(f, 0)
			}
			if err != nil {
				fail(err)
			}
			_ = f.Close()
		}
	}
}

// serveProcess is a gateway running as a child process.
type serveProcess struct {
	name string
	cmd  *exec.Cmd
	addr string
	logs *bottest.LogBuffer
	// exited is closed once the process has ended, and err is then what Wait said.
	exited chan struct{}
	err    error
}

// startProcess starts `sangkien serve` as a child process with env and nothing else of
// the gateway's variables (the test's own environment keeps the rest: PATH, GORACE),
// and waits until it listens. The test's end kills it if it still runs; a failed test
// shows its log.
func startProcess(t testing.TB, name string, env testEnv) *serveProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = childEnviron(env)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // one stream: the logs are on stderr, and what main says on failure
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{name: name, cmd: cmd, logs: &bottest.LogBuffer{}, exited: make(chan struct{})}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, tail(p.logs.String(), 60))
		}
	})
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			if m := listenLog.FindStringSubmatch(line); m != nil {
				listening <- m[1] + m[2]
			}
		}
		close(listening)
		p.err = cmd.Wait() // after the output is read, as Wait requires
		close(p.exited)
	}()
	addr, ok := <-listening
	if !ok {
		<-p.exited
		t.Fatalf("%s ended before it listened: %v\n%s", name, p.err, p.logs)
	}
	p.addr = addr
	return p
}

// startGateways starts n serve processes, p1 to pn, in webhook mode against the
// fake Bot API behind front, each under its own name there, with env and kv besides.
func startGateways(t testing.TB, front *telegramFront, env testEnv, n int, kv ...string) []*serveProcess {
	t.Helper()
	procs := make([]*serveProcess, n)
	for i := range procs {
		name := "p" + strconv.Itoa(i+1)
		procs[i] = startProcess(t, name, env.set(append([]string{"TELEGRAM_BOT_TOKEN", telegramtest.Token,
			"TELEGRAM_WEBHOOK_SECRET", tgSecret, "TELEGRAM_API_ENDPOINT", front.endpoint(name)}, kv...)...))
	}
	return procs
}

// childEnviron is the test's environment without any variable the gateway reads, then
// env, then the switch that makes the test binary a gateway.
func childEnviron(env testEnv) []string {
	ours := map[string]bool{}
	for _, v := range envVars {
		ours[v.Name], ours[v.Name+"_FILE"] = true, true
	}
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !ours[name] {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return append(out, serveChildVar+"=1")
}

// kill9 kills the process with SIGKILL, as kill -9 does: no shutdown, no lease given
// back, sends in flight cut off. It returns once the process is gone.
func (p *serveProcess) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %s: %v", p.name, err)
	}
	<-p.exited
}

// stop stops the process as an operator does (SIGTERM) and fails the test unless it
// stopped cleanly.
func (p *serveProcess) stop(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop %s: %v", p.name, err)
	}
	<-p.exited
	if p.err != nil {
		t.Errorf("%s did not stop cleanly: %v", p.name, p.err)
	}
}

// kill ends the process if it still runs and waits for it.
func (p *serveProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// seedSubscribers makes n citizens on Telegram, chats first to first+n-1, subscribed to
// announcements (every third writes English), by committing their sessions through
// redisstore as the engine does, without n conversations through the flows.
func seedSubscribers(t *testing.T, env testEnv, first int64, n int) {
	t.Helper()
	ctx := context.Background()
	st := envStore(t, env)
	const workers = 32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if err := seedSubscriber(ctx, st, first+int64(i), i%3 == 2); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func seedSubscriber(ctx context.Context, st *redisstore.Store, chat int64, english bool) error {
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: fmt.Sprint(chat)}
	lease, err := st.Begin(ctx, conv, "seed", time.Minute)
	if err != nil {
		return err
	}
	s := lease.Session
	now := time.Now()
	s.Profile.Lang, s.Profile.Indexed, s.Profile.Created, s.Profile.Updated = "vi", true, now, now
	if english {
		s.Profile.Lang = "en"
	}
	return st.Commit(ctx, lease, bot.Change{Session: s, Audience: bot.AudienceChange{After: bot.AudiencesOf(s)}})
}

// telegramFront stands before a fake Bot API and tells the gateway processes apart:
// each is pointed at a path of its own (endpoint), and every sendMessage is noted with
// the process that made it before the fake answers it.
type telegramFront struct {
	api *telegramtest.Server
	srv *httptest.Server
	mu  sync.Mutex
	log []frontSend
	// sent, when set, is told of each sendMessage's chat as it arrives.
	sent func(chat string)
}

// frontSend is one sendMessage as the front saw it.
type frontSend struct {
	process, chat, text string
}

func newTelegramFront(t testing.TB, api *telegramtest.Server) *telegramFront {
	f := &telegramFront{api: api}
	// The fake tells the front of each call it parsed: its parameters are read once.
	api.OnCall = func(r *http.Request, call telegramtest.Request) {
		if call.Method != "sendMessage" {
			return
		}
		process, _ := r.Context().Value(frontProcess{}).(string)
		f.mu.Lock()
		f.log = append(f.log, frontSend{process: process, chat: call.Params["chat_id"], text: call.Params["text"]})
		f.mu.Unlock()
		if f.sent != nil {
			f.sent(call.Params["chat_id"])
		}
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// frontProcess is the context key of the process a call to the front came from.
type frontProcess struct{}

// endpoint is TELEGRAM_API_ENDPOINT for the process named process.
func (f *telegramFront) endpoint(process string) string {
	return f.srv.URL + "/" + process + "/bot%s/%s"
}

func (f *telegramFront) serve(w http.ResponseWriter, r *http.Request) {
	process, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	r = r.WithContext(context.WithValue(r.Context(), frontProcess{}, process))
	r.URL.Path = "/" + rest
	f.api.Config.Handler.ServeHTTP(w, r)
}

// sends returns every sendMessage so far, in order.
func (f *telegramFront) sends() []frontSend {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]frontSend(nil), f.log...)
}

// count is how many sendMessage calls arrived so far.
func (f *telegramFront) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.log)
}

// sendBroadcast sends a broadcast to every subscribed citizen with the CLI, as an
// operator does, and returns its id.
func sendBroadcast(t *testing.T, env testEnv, textVI, textEN string) string {
	t.Helper()
	var out, errs strings.Builder
	args := []string{"broadcast", "send", "--audience", "subscribed", "--text-vi", textVI, "--text-en", textEN}
	if err := run(context.Background(), args, env.get, strings.NewReader(""), &out, &errs); err != nil {
		t.Fatalf("broadcast send: %v %s", err, errs.String())
	}
	id, _, _ := strings.Cut(out.String(), "\n")
	return strings.TrimSpace(id)
}

// envStore is the store of the gateways run with env: the test's Redis, env's prefix.
func envStore(t *testing.T, env testEnv) *redisstore.Store {
	t.Helper()
	return redisstore.New(redistest.Client(t), redisstore.Options{Prefix: env.get("REDIS_PREFIX")})
}

// broadcastProgress reads a broadcast's counts from Redis.
func broadcastProgress(t *testing.T, st *redisstore.Store, id string) bot.BroadcastProgress {
	t.Helper()
	p, err := st.BroadcastProgress(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor polls cond every so often until it holds, failing the test with what after
// limit: a guard against a hung test, not a timing assertion. A condition that reads
// Redis polls at a gentle pace, so as not to take the CPU the gateways need.
func waitFor(t *testing.T, limit, every time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %s: %s", limit, what)
		}
		time.Sleep(every)
	}
}
