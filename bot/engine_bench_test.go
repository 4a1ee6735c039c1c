package bot_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// BenchmarkEngineHandle runs text events over 1,000 conversations against real Redis
// and reports events per second and Redis round trips per event.
//
//	make bench   (or: go test -run '^$' -bench EngineHandle -benchtime 5000x ./bot/)
func BenchmarkEngineHandle(b *testing.B) {
	c := redistest.Client(b)
	rt := &redisstore.RoundTrips{}
	c.AddHook(rt)
	st := redisstore.New(c, redisstore.Options{Prefix: redistest.Prefix(b)})
	e := newEngine(b, st, 0)
	ctx := context.Background()
	// Warm up: load the scripts, so EVALSHA's first NOSCRIPT miss is not counted.
	if _, err := e.Handle(ctx, bot.Event{ID: "warm", Conversation: conv, Kind: bot.EventText, Text: "x"}); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	rt.Reset()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			ev := bot.Event{
				ID:           "b" + strconv.FormatInt(n, 10),
				Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: strconv.FormatInt(n%1000, 10)},
				Kind:         bot.EventText,
				Text:         "Ý kiến số " + strconv.FormatInt(n, 10),
			}
			if _, err := e.Handle(ctx, ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(rt.Count())/float64(b.N), "roundtrips/event")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
