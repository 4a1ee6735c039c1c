package telegram

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
	"github.com/sangkien/sangkien/logging"
)

const testSecret = "s3cret-webhook-token_for-tests"

// recorder is the Handler webhook tests give: a real engine on the test's Redis, so a
// repeated update is the engine's to find, whose conversation records the events it
// ran. While fail is set, Handle fails without reaching the engine, as the engine does
// when Redis is out.
type recorder struct {
	engine *bot.Engine
	ran    *bottest.Recording
	done   chan struct{} // receives after every Handle

	mu    sync.Mutex
	fail  error
	calls int
	// requests are the request ids of the contexts Handle was given, in order.
	requests []string
}

func newRecorder(t testing.TB) *recorder {
	t.Helper()
	ran := &bottest.Recording{}
	return &recorder{engine: bottest.NewEngine(t, ran), ran: ran, done: make(chan struct{}, 100)}
}

func (r *recorder) Handle(ctx context.Context, ev bot.Event) (bot.Outcome, error) {
	defer func() { r.done <- struct{}{} }()
	r.mu.Lock()
	r.calls++
	r.requests = append(r.requests, logging.RequestID(ctx))
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

// handled counts Handle calls, failed and duplicate ones included.
func (r *recorder) handled() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// got lists the events the engine ran, duplicates left out by the engine.
func (r *recorder) got() []bot.Event { return r.ran.Events() }

// logBuffer collects a webhook's or client's log for a test to search.
type logBuffer = bottest.LogBuffer

var errRedisDown = errors.New("redis: connection refused")

// readTestdata returns the body of testdata/name.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newTestClient starts a fake Bot API and a Client on it.
func newTestClient(t *testing.T, log *slog.Logger) (*Client, *telegramtest.Server) {
	t.Helper()
	srv := telegramtest.NewServer(t)
	c, err := NewClient(srv.Token, srv.Endpoint(), &http.Client{}, bottest.Catalog(t), log)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, srv
}

// mustUpdate returns testdata/name, checked to be JSON, as Process takes it.
func mustUpdate(t *testing.T, name string) []byte {
	t.Helper()
	b := readTestdata(t, name)
	if !json.Valid(b) {
		t.Fatalf("%s is not JSON", name)
	}
	return b
}

// newAlbums returns an album store on the test's Redis, under a prefix of its own.
func newAlbums(t *testing.T) AlbumStore {
	t.Helper()
	return albumsAt(t, redistest.Prefix(t))
}

// albumsAt returns an album store under prefix on a client of its own: one gateway
// process of several sharing a Redis.
func albumsAt(t *testing.T, prefix string) *redisstore.Albums {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	return redisstore.New(redistest.Client(t), redisstore.Options{Prefix: prefix, Logger: log}).Albums()
}
