package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// One sender opens at most Limit conversations per Window, counted in Redis for every
// process; other senders and other channels are counted apart, and no sender is
// written to Redis as given.
func TestConversationCap(t *testing.T) {
	client, prefix := redistest.Client(t), redistest.Prefix(t)
	st := redisstore.New(client, redisstore.Options{Prefix: prefix})
	ctx := context.Background()
	web := bot.ConversationCap{Limiter: st.Delivery(), Channel: bot.Web, Limit: 3, Window: time.Hour}
	// Another process's cap, on the same Redis.
	other := bot.ConversationCap{Limiter: redisstore.New(client, redisstore.Options{Prefix: prefix}).Delivery(), Channel: bot.Web, Limit: 3, Window: time.Hour}
	open := func(c bot.ConversationCap, sender string) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := c.Open(ctx, sender)
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	for i, c := range []bot.ConversationCap{web, other, web} {
		if ok, _ := open(c, "203.0.113.9"); !ok {
			t.Fatalf("conversation %d refused, want the first 3 opened", i+1)
		}
	}
	ok, wait := open(other, "203.0.113.9")
	if ok || wait <= 0 || wait > time.Hour+time.Second {
		t.Fatalf("the fourth in an hour: ok %v, wait %v; want refused, with a wait within the hour", ok, wait)
	}
	if ok, _ := open(web, "2001:db8:5:6::/64"); !ok {
		t.Error("another sender was refused")
	}
	tg := web
	tg.Channel = bot.Telegram
	if ok, _ := open(tg, "203.0.113.9"); !ok {
		t.Error("the sender was refused on another channel")
	}
	keys, err := redistest.Keys(ctx, client, prefix+":*")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("nothing counted in Redis")
	}
	for _, k := range keys {
		if strings.Contains(k, "203.0.113") || strings.Contains(k, "2001:db8") {
			t.Errorf("key %s names the sender", k)
		}
	}
	if _, _, err := (bot.ConversationCap{Channel: bot.Web}).Open(ctx, "x"); err == nil {
		t.Error("a cap without a limiter opened")
	}
}
