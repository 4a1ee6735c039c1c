package broadcast_test

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/broadcast"
)

// recording is a channel that delivers to everyone but the chats that blocked the bot,
// and remembers whom it was asked to send the broadcast to.
type recording struct {
	mu      sync.Mutex
	to      map[string]int
	blocked map[string]bool
}

func (r *recording) Send(_ context.Context, o bot.Outbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o.Broadcast != "" {
		r.to[o.Conversation.ID]++
	}
	if r.blocked[o.Conversation.ID] {
		return &bot.SendError{Failure: bot.Gone, Code: 403, Detail: "Forbidden: bot was blocked by the user"}
	}
	return nil
}

func (r *recording) sends() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.to)
}

// Citizens queued for a broadcast who, before their turn came, said stop or erased
// their data are not contacted; one who blocked the bot is skipped when Telegram says
// so; each is counted by reason, apart from the failures, and the others get it once.
func TestSkippedByReason(t *testing.T) {
	ctx := context.Background()
	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: echo{}})
	if err != nil {
		t.Fatal(err)
	}
	say := func(chat int, text string) {
		t.Helper()
		ev := bot.Event{ID: fmt.Sprintf("e%d-%s", chat, text), Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: fmt.Sprint(chat)},
			Kind: bot.EventText, Text: text, Lang: "vi", At: time.Now()}
		if _, err := e.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	for c := 1; c <= 5; c++ {
		say(c, "xin chào")
	}
	b := bot.Broadcast{ID: "skips", Audience: bot.AudienceQuery{Kind: bot.AudienceSubscribed}, Text: bot.Text{VI: "Nhắc hạn"},
		At: time.Now(), Created: time.Now(), State: bot.BroadcastScheduled}
	if err := st.SaveBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	r := &broadcast.Runner{Store: st, Holder: "p1", Tick: 20 * time.Millisecond}
	go func() { _ = r.Run(runCtx) }()
	waitFor(t, runCtx, "the fan-out", func() bool {
		got, err := st.Broadcast(ctx, "skips")
		return err == nil && got.State == bot.BroadcastQueued
	})
	// Queued for all five; then, before any is sent, two change their minds.
	say(2, "stop")
	say(3, "forget me")
	ch := &recording{to: map[string]int{}, blocked: map[string]bool{"4": true}}
	p := sendAll(t, runCtx, st, ch, "p1", "skips")
	want := map[string]int64{bot.SkipStopped: 1, bot.SkipErased: 1, bot.SkipBlocked: 1}
	if p.Queued != 5 || p.Sent != 2 || p.Failed != 0 || !maps.Equal(p.Skipped, want) {
		t.Errorf("progress %+v, want 5 queued, 2 sent, skipped %v", p, want)
	}
	// The one who blocked the bot is tried once, or not at all when the answer to
	// their greeting said so first.
	got := ch.sends()
	if got["4"] > 1 {
		t.Errorf("the citizen who blocked the bot was tried %d times", got["4"])
	}
	delete(got, "4")
	if want := map[string]int{"1": 1, "5": 1}; !maps.Equal(got, want) {
		t.Errorf("sends by chat %v, want %v: never to who said stop or erased their data", got, want)
	}
}

// sendAll runs a Telegram dispatcher named holder, with the gate, sending through ch
// until ctx ends, and returns broadcast id's progress once every recipient is done with.
// Its shards are held 300 ms, so that it takes over a dead holder's soon.
func sendAll(t *testing.T, ctx context.Context, st *redisstore.Store, ch bot.Sender, holder, id string) bot.BroadcastProgress {
	t.Helper()
	d, err := bot.NewDispatcher(bot.DispatcherConfig{
		Channel: bot.Telegram, Queue: st.Delivery().Sender(bot.Telegram, holder, redisstore.SenderOptions{}),
		Bulk:    st.Bulk().Sender(bot.Telegram, holder, redisstore.SenderOptions{Hold: 300 * time.Millisecond, Poll: 10 * time.Millisecond}),
		Limiter: st.Delivery(), Sender: ch, Limit: 100, Window: time.Second, ChatInterval: time.Millisecond, ChatBurst: 10,
		Gate: &broadcast.Gate{Store: st},
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.Run(ctx) }()
	var p bot.BroadcastProgress
	waitFor(t, ctx, "every recipient finished with", func() bool { p, err = st.BroadcastProgress(ctx, id); return err == nil && p.Finished() })
	return p
}

// waitFor polls ok until it holds, failing the test when ctx ends first.
func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		if ctx.Err() != nil {
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A process killed while a broadcast's message was on its way: the process that takes
// its shard over does not send that message again (the citizen most likely has it),
// and sends the rest, each once.
func TestTriedAtMostOnceAcrossACrash(t *testing.T) {
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: prefix})
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: echo{}})
	if err != nil {
		t.Fatal(err)
	}
	for c := 1; c <= 3; c++ {
		ev := bot.Event{ID: fmt.Sprintf("e%d", c), Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: fmt.Sprint(c)},
			Kind: bot.EventText, Text: "xin chào", Lang: "vi", At: time.Now()}
		if _, err := e.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	b := bot.Broadcast{ID: "crash-mid-send", Audience: bot.AudienceQuery{Kind: bot.AudienceSubscribed}, Text: bot.Text{VI: "Nhắc hạn"},
		At: time.Now(), Created: time.Now(), State: bot.BroadcastScheduled}
	if err := st.SaveBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithTimeout(ctx, 15*time.Second)
	defer stop()
	go func() { _ = (&broadcast.Runner{Store: st, Holder: "p1", Tick: 20 * time.Millisecond}).Run(runCtx) }()
	waitFor(t, runCtx, "the fan-out", func() bool {
		got, err := st.Broadcast(ctx, b.ID)
		return err == nil && got.State == bot.BroadcastQueued
	})
	// The dead process claimed the messages and was sending the first when it died:
	// it never finished it, nor gave its shards back, nor renewed their leases.
	deadClient := redistest.Client(t)
	dead := redisstore.New(deadClient, redisstore.Options{Prefix: prefix}).Bulk().Sender(bot.Telegram, "dead", redisstore.SenderOptions{Hold: 300 * time.Millisecond, Poll: 10 * time.Millisecond})
	var claimed []bot.Delivery
	waitFor(t, runCtx, "the dead process's claim", func() bool {
		ds, err := dead.Claim(runCtx, 10)
		if err != nil {
			t.Fatal(err)
		}
		claimed = append(claimed, ds...)
		return len(claimed) == 3
	})
	if first, err := dead.(bot.Attempter).Attempt(ctx, claimed[0]); err != nil || !first {
		t.Fatalf("the first try = %v, %v", first, err)
	}
	_ = deadClient.Close()
	ch := &recording{to: map[string]int{}}
	p := sendAll(t, runCtx, st, ch, "p2", b.ID)
	want := map[string]int{"1": 1, "2": 1, "3": 1}
	delete(want, claimed[0].Outbound.Conversation.ID)
	if got := ch.sends(); !maps.Equal(got, want) {
		t.Errorf("sends by chat %v, want %v: not again to the one the dead process was sending to", got, want)
	}
	if p.Sent != 3 || p.Failed != 0 || p.SkippedAll() != 0 {
		t.Errorf("progress %+v, want all 3 counted sent", p)
	}
}

// On Zalo, a citizen who last wrote over a week ago is outside the OA's interaction
// window: one who left a phone in a draft of the program gets its template message
// (ZNS) instead, the others are skipped; one who wrote lately gets the message itself.
func TestZaloWindow(t *testing.T) {
	ctx := context.Background()
	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: echo{}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, c := range []struct {
		id   string
		text string
		ago  time.Duration
	}{{"recent", "xin chào", time.Hour}, {"away", "xin chào", 8 * 24 * time.Hour}, {"drafting", "draft in cds", 8 * 24 * time.Hour}} {
		ev := bot.Event{ID: "e-" + c.id, Conversation: bot.ConversationRef{Channel: bot.Zalo, ID: c.id},
			Kind: bot.EventText, Text: c.text, Lang: "vi", At: now.Add(-c.ago)}
		if _, err := e.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	p := bot.Program{ID: "cds", Name: bot.Text{VI: "Chuyển đổi số"}, Opens: now.Add(-30 * 24 * time.Hour), Deadline: now.Add(20 * time.Hour),
		ZNS: &bot.ZNSTemplate{ID: "355330", Params: map[string]string{"program": "{{.Program}}", "name": "{{.Name}}"}}}
	b := bot.Broadcast{ID: "rem-cds-1d-draft", Audience: bot.AudienceQuery{Kind: bot.AudienceDraft, Program: "cds"}, Text: bot.Text{VI: "Nhắc hạn"},
		At: now, Created: now, State: bot.BroadcastScheduled}
	if err := st.SaveBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	g := &broadcast.Gate{Store: st, Programs: bot.Programs{p}}
	admit := func(id string) (bot.Outbound, string) {
		t.Helper()
		o, skip, err := g.Admit(ctx, b.Message(bot.AudienceMember{Conversation: bot.ConversationRef{Channel: bot.Zalo, ID: id}, Lang: "vi"}))
		if err != nil {
			t.Fatal(err)
		}
		return o, skip
	}
	if o, skip := admit("recent"); skip != "" || o.ZNS != nil || o.Reply.Text != "Nhắc hạn" {
		t.Errorf("inside the window: %q %+v", skip, o)
	}
	if _, skip := admit("away"); skip != bot.SkipZaloWindow {
		t.Errorf("outside the window with no phone: skip %q, want %q", skip, bot.SkipZaloWindow)
	}
	o, skip := admit("drafting")
	want := &bot.ZNSMessage{TemplateID: "355330", Phone: "84912345678", Data: map[string]string{"program": "Chuyển đổi số", "name": "Lan"}}
	if skip != "" || o.ZNS == nil || o.ZNS.TemplateID != want.TemplateID || o.ZNS.Phone != want.Phone || !maps.Equal(o.ZNS.Data, want.Data) {
		t.Errorf("outside the window with a draft: %q %+v, want the template message %+v", skip, o.ZNS, want)
	}
}
