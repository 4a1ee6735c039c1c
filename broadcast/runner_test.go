package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/locales"
)

// echo answers every message: enough for the engine to keep the audiences.
type echo struct{}

func (echo) Respond(_ context.Context, s *bot.Session, ev bot.Event) (bot.Result, error) {
	if ev.Lang != "" {
		s.Profile.Lang = ev.Lang // as the flows do with the channel's language
	}
	if ev.Text == "stop" {
		s.Profile.OptedOut = true
	}
	if ev.Text == "forget me" {
		return bot.Result{Forget: true}, nil
	}
	if program, ok := strings.CutPrefix(ev.Text, "draft in "); ok { // with a phone, after consent
		s.Profile.Consent = &bot.Consent{At: ev.At, NoticeVersion: "test"}
		s.State.Flow = bot.KindInitiative
		s.State.Draft = &bot.Draft{ID: "d-" + ev.ID, Proposal: bot.Proposal{ProgramID: program, Title: "Đèn đường"},
			SubmitterContact: bot.SubmitterContact{Name: "Lan", Phone: "+84912345678"}}
	}
	return bot.Result{Replies: []bot.Reply{{Text: "ok"}}}, nil
}

// crashing is the store of a process killed after it queued a few pages: its
// later pages never reach Redis, and it never gives its shard back.
type crashing struct {
	*redisstore.Store
	pages atomic.Int32
	after int32
}

var errKilled = errors.New("killed")

func (c *crashing) QueueBroadcast(ctx context.Context, sh *redisstore.BroadcastShard, msgs []bot.Outbound, next string) (int, error) {
	if c.pages.Add(1) > c.after {
		return 0, errKilled
	}
	return c.Store.QueueBroadcast(ctx, sh, msgs, next)
}

func (c *crashing) ReleaseBroadcastShard(context.Context, redisstore.BroadcastShard) error {
	return nil
}

// A process killed part-way through a fan-out: another takes its shards over once
// their leases run out and resumes from their cursors; every subscribed citizen is
// queued exactly once, in their language, and the one who said stop not at all.
func TestFanOutResumesAfterACrash(t *testing.T) {
	ctx := context.Background()
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	st := redisstore.New(client, redisstore.Options{Prefix: prefix})
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: echo{}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		ch, lang := bot.Telegram, "vi"
		if i%3 == 0 {
			ch, lang = bot.Zalo, "en"
		}
		ev := bot.Event{ID: fmt.Sprintf("e%d", i), Conversation: bot.ConversationRef{Channel: ch, ID: fmt.Sprint(10000 + i)},
			Kind: bot.EventText, Text: "xin chào", Lang: lang, At: time.Now()}
		if i == 7 {
			ev.Text = "stop"
		}
		if _, err := e.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	b := bot.Broadcast{ID: "crash", Audience: bot.AudienceQuery{Kind: bot.AudienceSubscribed}, Text: bot.Text{VI: "Nhắc hạn", EN: "Deadline"},
		At: time.Now(), Created: time.Now(), State: bot.BroadcastScheduled}
	if err := st.SaveBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	killed := &crashing{Store: st, after: 5}
	first := &broadcast.Runner{Store: killed, Holder: "p1", Page: 7, Hold: 300 * time.Millisecond}
	runCtx, stop := context.WithTimeout(ctx, 2*time.Second)
	_ = first.Run(runCtx) // it fails on every page after the fifth, as a dead process would
	stop()
	second := &broadcast.Runner{Store: st, Holder: "p2", Page: 7, Hold: 300 * time.Millisecond, Tick: 50 * time.Millisecond}
	runCtx, stop = context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	go func() { _ = second.Run(runCtx) }()
	for {
		if got, err := st.Broadcast(ctx, "crash"); err == nil && got.State == bot.BroadcastQueued {
			break
		}
		if runCtx.Err() != nil {
			t.Fatal("the fan-out did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	seen := map[string]int{}
	for sh := range redisstore.Shards {
		for _, ch := range []bot.Channel{bot.Telegram, bot.Zalo} {
			msgs, err := client.XRange(ctx, st.BulkStream(sh, ch), "-", "+").Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				t.Fatal(err)
			}
			for _, m := range msgs {
				raw := m.Values["m"].(string)
				seen[raw]++
			}
		}
	}
	if len(seen) != n-1 {
		t.Errorf("%d distinct messages queued, want %d (everyone but the one who said stop)", len(seen), n-1)
	}
	english := 0
	for raw, k := range seen {
		if k != 1 {
			t.Errorf("queued %d times: %s", k, raw)
		}
		if strings.Contains(raw, `"text":"Deadline"`) {
			english++
		}
	}
	if english != n/3 {
		t.Errorf("%d messages in English, want the %d citizens who write it", english, n/3)
	}
	if p, err := st.BroadcastProgress(ctx, "crash"); err != nil || p.Queued != n-1 || p.ShardsDone != redisstore.Shards {
		t.Errorf("progress: %+v %v", p, err)
	}
}

// saving counts the reminders one process saves as broadcasts.
type saving struct {
	*redisstore.Store
	saves atomic.Int32
}

func (s *saving) SaveBroadcast(ctx context.Context, b bot.Broadcast) error {
	s.saves.Add(1)
	return s.Store.SaveBroadcast(ctx, b)
}

// Of two processes, only the one that holds the reminders' lead turns reminders into
// broadcasts; when it stops, the other takes the duty on.
func TestOneProcessSchedulesTheReminders(t *testing.T) {
	ctx := context.Background()
	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	p := bot.Program{ID: "cds", Name: bot.Text{VI: "Chuyển đổi số", EN: "Digital wards"},
		Opens: time.Now().Add(-time.Hour), Deadline: time.Now().Add(30 * time.Hour)}
	rem := &broadcast.Reminders{Programs: bot.Programs{p}, Catalog: cat}
	stores := [2]*saving{{Store: st}, {Store: st}}
	var stops [2]context.CancelFunc
	var done [2]chan struct{}
	for i, s := range stores {
		r := &broadcast.Runner{Store: s, Holder: fmt.Sprintf("p%d", i+1), Reminders: rem, Tick: 20 * time.Millisecond, Hold: 900 * time.Millisecond}
		var runCtx context.Context
		runCtx, stops[i] = context.WithCancel(ctx)
		done[i] = make(chan struct{})
		go func() { defer close(done[i]); _ = r.Run(runCtx) }()
	}
	defer func() {
		for i := range stops {
			stops[i]()
			<-done[i]
		}
	}()
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	waitFor(t, wait, "a process to schedule the reminder", func() bool { return stores[0].saves.Load()+stores[1].saves.Load() > 0 })
	time.Sleep(300 * time.Millisecond) // many ticks of both
	leader, other := 0, 1
	if stores[1].saves.Load() > 0 {
		leader, other = 1, 0
	}
	if n := stores[other].saves.Load(); n != 0 {
		t.Fatalf("both processes scheduled reminders (%d and %d saves)", stores[leader].saves.Load(), n)
	}
	if got, err := st.Broadcast(ctx, "rem-cds-opened-"+p.Opens.In(bot.HoChiMinh()).Format("20060102T1504")); err != nil || got.Audience.Kind != bot.AudienceSubscribed {
		t.Fatalf("the opening reminder = %+v, %v", got, err)
	}
	stops[leader]()
	<-done[leader]
	// It gave the lead back on its way out: the other takes it at its next tick, well
	// before the lease would have run out.
	waitFor(t, wait, "the other process to take the reminders on", func() bool { return stores[other].saves.Load() > 0 })
}
