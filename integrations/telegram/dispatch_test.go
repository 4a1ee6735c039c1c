package telegram

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

// A chat whose sends hang and one whose sends are answered with garbage hold up no
// other chat's replies: the dispatcher sends each chat in a line of its own, through
// the real client, and keeps a chat's replies in order behind its pending one.
func TestSlowOrBrokenChatHoldsUpNoOther(t *testing.T) {
	client, srv := newTestClient(t, nil)
	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	const slow, broken = "2001", "2002"
	release := srv.HoldChat(slow)
	defer release()
	srv.GarbleChat(broken, "<html><body><h1>502 Bad Gateway</h1></body></html>")

	queueReplies(t, st, slow, "slow/0", "slow/1")
	queueReplies(t, st, broken, "broken/0")
	var others []string
	for i := range 6 {
		id := fmt.Sprint(3000 + i)
		others = append(others, id)
		queueReplies(t, st, id, id+"/0", id+"/1")
	}
	d, err := bot.NewDispatcher(bot.DispatcherConfig{
		Channel: bot.Telegram, Limiter: st.Delivery(), Sender: client,
		Queue:        st.Delivery().Sender(bot.Telegram, "p1", redisstore.SenderOptions{Hold: time.Second, Poll: 10 * time.Millisecond}),
		ChatInterval: time.Millisecond, ChatBurst: 100,
		MaxAttempts: 3, Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// While the slow chat's first send hangs, every other chat gets both replies, in
	// order, and the broken chat's reply is tried to its last attempt.
	waitSends(t, srv, func(by map[string][]string) bool {
		if len(by[slow]) == 0 || len(by[broken]) < 3 {
			return false
		}
		for _, id := range others {
			if len(by[id]) < 2 {
				return false
			}
		}
		return true
	})
	by := sendsByChat(srv)
	for _, id := range others {
		if want := []string{"tin " + id + "/0", "tin " + id + "/1"}; !slices.Equal(by[id], want) {
			t.Errorf("chat %s got %q, want %q", id, by[id], want)
		}
	}
	if len(by[slow]) != 1 {
		t.Errorf("the slow chat was sent %q while its first send hung, want its first reply only", by[slow])
	}
	release()
	waitSends(t, srv, func(by map[string][]string) bool { return len(by[slow]) >= 2 })
	if got, want := sendsByChat(srv)[slow], []string{"tin slow/0", "tin slow/1"}; !slices.Equal(got, want) {
		t.Errorf("the slow chat got %q once released, want %q", got, want)
	}
	if n := len(sendsByChat(srv)[broken]); n != 3 {
		t.Errorf("the broken chat was tried %d times, want MaxAttempts (3)", n)
	}
}

// queueReplies commits replies for a Telegram chat as the engine does.
func queueReplies(t *testing.T, st *redisstore.Store, chatID string, ids ...string) {
	t.Helper()
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: chatID}
	lease, err := st.Begin(ctx, conv, "ev-"+ids[0], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var out []bot.Outbound
	for _, id := range ids {
		out = append(out, bot.Outbound{ID: id, Conversation: conv, Lang: "vi", Reply: bot.Reply{Text: "tin " + id}})
	}
	if err := st.Commit(ctx, lease, bot.Change{Session: lease.Session, Replies: out}); err != nil {
		t.Fatal(err)
	}
}

// sendsByChat is the texts of the fake's sendMessage calls, by chat, in order.
func sendsByChat(srv *telegramtest.Server) map[string][]string {
	by := map[string][]string{}
	for _, r := range srv.Calls("sendMessage") {
		by[r.Params["chat_id"]] = append(by[r.Params["chat_id"]], r.Params["text"])
	}
	return by
}

// waitSends waits, call by call, until done holds of the fake's sends; srv.Wait fails
// the test if no call comes for a generous while.
func waitSends(t *testing.T, srv *telegramtest.Server, done func(map[string][]string) bool) {
	t.Helper()
	for n := 1; ; {
		calls := srv.Wait("sendMessage", n)
		if done(sendsByChat(srv)) {
			return
		}
		n = len(calls) + 1
	}
}
