package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/flows"
	"github.com/sangkien/sangkien/locales"
)

// A program closing in two minutes with a one-minute reminder, and three citizens on
// the real flows: one who pressed "Remind me", one with a titled draft in it, one with
// a draft who then said stop. The reminder reaches the first as the time left, the
// second as the personal reminder naming their draft with the Continue button, each
// once and in their language, and the third not at all.
func TestRemindersReachFollowersAndDraftOwnersOnce(t *testing.T) {
	ctx := context.Background()
	client := redistest.Client(t)
	st := redisstore.New(client, redisstore.Options{Prefix: redistest.Prefix(t)})
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	field := []bot.Field{{ID: "chung", Name: bot.Text{VI: "Chung", EN: "General"}}}
	progs := bot.Programs{
		{ID: "gap", Name: bot.Text{VI: "Hạn gấp", EN: "Tight deadline"}, Fields: field, Opens: now.Add(-30 * 24 * time.Hour),
			Deadline: now.Add(2 * time.Minute), Reminders: []bot.Reminder{{Before: time.Minute}}},
		{ID: "dai", Name: bot.Text{VI: "Dài hạn", EN: "Long"}, Fields: field, Opens: now.Add(-time.Hour), Deadline: now.Add(90 * 24 * time.Hour),
			Reminders: []bot.Reminder{}},
	}
	router, err := flows.NewRouter(flows.Config{Programs: progs, Catalog: cat, Refs: st})
	if err != nil {
		t.Fatal(err)
	}
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: router})
	if err != nil {
		t.Fatal(err)
	}
	seq := 0
	do := func(conv bot.ConversationRef, lang string, evs ...bot.Event) {
		t.Helper()
		for _, ev := range evs {
			seq++
			ev.ID, ev.Conversation, ev.Lang, ev.At = fmt.Sprintf("e%d", seq), conv, lang, time.Now()
			if _, err := e.Handle(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	press := func(p string) bot.Event { return bot.Event{Kind: bot.EventButton, Payload: p} }
	say := func(s string) bot.Event { return bot.Event{Kind: bot.EventText, Text: s} }
	lan := bot.ConversationRef{Channel: bot.Telegram, ID: "101"}
	anna := bot.ConversationRef{Channel: bot.Telegram, ID: "202"}
	hoa := bot.ConversationRef{Channel: bot.Zalo, ID: "303"}
	do(lan, "vi", press("cmd:initiative"), press("agree"), press("remind:gap"))
	do(anna, "en", press("cmd:initiative"), press("agree"), press("program:gap"), say("Night buses to the outer wards"))
	do(hoa, "vi", press("cmd:initiative"), press("agree"), press("program:gap"), say("dừng"))

	r := &broadcast.Runner{Store: st, Holder: "p1", Reminders: &broadcast.Reminders{Programs: progs, Catalog: cat},
		Tick: 20 * time.Millisecond, Now: func() time.Time { return time.Now().Add(90 * time.Second) }}
	runCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	go func() { _ = r.Run(runCtx) }()
	deadline := progs[0].Deadline.In(bot.HoChiMinh()).Format("20060102T1504")
	for _, id := range []string{"rem-gap-1m-" + deadline, "rem-gap-1m-draft-" + deadline} {
		for {
			if b, err := st.Broadcast(ctx, id); err == nil && b.State == bot.BroadcastQueued {
				break
			}
			if runCtx.Err() != nil {
				t.Fatalf("%s was not queued", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	got := map[string][]bot.Outbound{}
	for sh := range redisstore.Shards {
		for _, ch := range []bot.Channel{bot.Telegram, bot.Zalo} {
			msgs, err := client.XRange(ctx, st.BulkStream(sh, ch), "-", "+").Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				t.Fatal(err)
			}
			for _, m := range msgs {
				var o bot.Outbound
				if err := json.Unmarshal([]byte(m.Values["m"].(string)), &o); err != nil {
					t.Fatal(err)
				}
				got[o.Conversation.Key()] = append(got[o.Conversation.Key()], o)
			}
		}
	}
	if len(got) != 2 || len(got[lan.Key()]) != 1 || len(got[anna.Key()]) != 1 {
		t.Fatalf("queued %v; want one message to each of %s and %s", got, lan.Key(), anna.Key())
	}
	if o := got[lan.Key()][0]; !strings.Contains(o.Reply.Text, "Chỉ còn 1 phút nữa") || !strings.Contains(o.Reply.Text, "Hạn gấp") {
		t.Errorf("the follower's reminder: %q", o.Reply.Text)
	}
	o := got[anna.Key()][0]
	if !strings.Contains(o.Reply.Text, `Your initiative "Night buses to the outer wards" is not sent yet`) || !strings.Contains(o.Reply.Text, "1 minute left") ||
		len(o.Reply.Choices) != 1 || o.Reply.Choices[0].Payload != "cmd:initiative:gap" {
		t.Errorf("the draft owner's reminder: %q %+v", o.Reply.Text, o.Reply.Choices)
	}
}
