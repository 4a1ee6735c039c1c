package bottest

import (
	"context"
	"sync"
	"testing"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// NewEngine returns a real bot.Engine on the test's Redis, under a key prefix of its
// own, running events through conv. A channel's tests give it (or a Handler around
// it) to their webhook, so a redelivered update meets the engine's own dedupe, not an
// imitation of it.
func NewEngine(t testing.TB, conv bot.Conversation) *bot.Engine {
	t.Helper()
	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: conv})
	if err != nil {
		t.Fatalf("bottest: engine: %v", err)
	}
	return e
}

// Recording is a conversation that remembers the events the engine ran through it, in
// order, and answers none of them.
type Recording struct {
	mu     sync.Mutex
	events []bot.Event
}

// Respond records ev.
func (r *Recording) Respond(_ context.Context, _ *bot.Session, ev bot.Event) (bot.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return bot.Result{}, nil
}

// Events returns the events run so far.
func (r *Recording) Events() []bot.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Event(nil), r.events...)
}
