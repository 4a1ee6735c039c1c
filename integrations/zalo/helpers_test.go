package zalo

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

// testNow is a minute after the timestamps of the testdata events.
var testNow = time.UnixMilli(1764316800000).Add(time.Minute)

func fixedNow() time.Time { return testNow }

// recorder is the Handler webhook tests give: a real engine on the test's Redis, so a
// repeated event is the engine's to find, whose conversation records the events it ran.
// While fail is set, Handle fails without reaching the engine, as the engine does when
// Redis is out.
type recorder struct {
	engine *bot.Engine
	ran    *bottest.Recording

	mu   sync.Mutex
	fail error
}

func newRecorder(t testing.TB) *recorder {
	t.Helper()
	ran := &bottest.Recording{}
	return &recorder{engine: bottest.NewEngine(t, ran), ran: ran}
}

func (r *recorder) Handle(ctx context.Context, ev bot.Event) (bot.Outcome, error) {
	r.mu.Lock()
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		return bot.Outcome{}, fail
	}
	return r.engine.Handle(ctx, ev)
}

func (r *recorder) setFail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

// got lists the events the engine ran, duplicates left out by the engine.
func (r *recorder) got() []bot.Event { return r.ran.Events() }

// logBuffer collects a webhook's or client's log for a test to search.
type logBuffer = bottest.LogBuffer

var errRedisDown = errors.New("redis: connection refused")

// testPeriod is the inbox lease period of webhook tests: short, so that a takeover
// test waits little for a claim to run out.
const testPeriod = 200 * time.Millisecond

// inboxStore is a store for real inboxes on the test's Redis, under the test's own
// prefix (other processes are other inboxes of the same store). client, when not nil,
// is set to the store's own client, which the test may close.
func inboxStore(t testing.TB, client *redis.UniversalClient) *redisstore.Store {
	t.Helper()
	c := redistest.Client(t)
	if client != nil {
		*client = c
	}
	return redisstore.New(c, redisstore.Options{Prefix: redistest.Prefix(t), Logger: slog.New(slog.DiscardHandler)})
}

// readTestdata returns the body of testdata/name.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// memTokens is a TokenStore in memory, for tests of one process; the Redis one is
// tested with several.
type memTokens struct {
	mu    sync.Mutex
	pair  []byte
	owner string
	fail  error
}

func (m *memTokens) Get(context.Context, string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pair, m.fail
}

func (m *memTokens) Set(_ context.Context, _ string, pair []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.pair = pair
	return nil
}

func (m *memTokens) Seed(_ context.Context, _ string, pair []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pair != nil {
		return false, nil
	}
	m.pair = pair
	return true, nil
}

func (m *memTokens) Lock(context.Context, string, time.Duration) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.owner != "" {
		return "", nil
	}
	m.owner = "me"
	return m.owner, nil
}

func (m *memTokens) Unlock(_ context.Context, _, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.owner == owner {
		m.owner = ""
	}
	return nil
}

func (m *memTokens) setFail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// stored decodes the pair the store holds, failing or not.
func (m *memTokens) stored(t *testing.T) Token {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var tok Token
	if err := json.Unmarshal(m.pair, &tok); err != nil {
		t.Fatalf("stored pair: %v", err)
	}
	return tok
}

func (m *memTokens) locked() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owner != ""
}

// newTestClient starts a fake Zalo and a Client on it whose store holds tok (nothing
// when tok is nil). Both read the clock fixedNow, an afternoon in Vietnam.
func newTestClient(t *testing.T, tok *Token, log *slog.Logger) (*Client, *zalotest.Server, *memTokens) {
	t.Helper()
	api := zalotest.NewServer(t)
	api.SetClock(fixedNow)
	store := &memTokens{}
	c, err := NewClient(ClientConfig{
		AppID: zalotest.AppID, AppSecret: zalotest.AppSecret,
		APIBase: api.URL, OAuthBase: api.URL, ZNSBase: api.URL, Tokens: store, Catalog: bottest.Catalog(t), Logger: log, Now: fixedNow,
		RefreshWait: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok != nil {
		if err := c.save(t, *tok); err != nil {
			t.Fatal(err)
		}
	}
	return c, api, store
}

// save stores a pair as Client.refresh would.
func (c *Client) save(t *testing.T, tok Token) error {
	t.Helper()
	b, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	return c.tokens.Set(context.Background(), c.appID, b)
}
