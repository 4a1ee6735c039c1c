package broadcast_test

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/broadcast"
)

var recipients = flag.Int("recipients", 20000, "BenchmarkFanOut: the citizens a broadcast reaches")

// How fast a broadcast's recipients go into the bulk lanes (the fan-out, not the
// channels' sending, which their limits pace): citizens made through the engine, then
// one runner queues them all. go test -run '^$' -bench FanOut -benchtime 1x ./broadcast/
// -recipients 100000
func BenchmarkFanOut(b *testing.B) {
	ctx := context.Background()
	st := redisstore.New(redistest.Client(b), redisstore.Options{Prefix: redistest.Prefix(b)})
	e, err := bot.NewEngine(bot.EngineConfig{Store: st, Conversation: echo{}})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < *recipients; i += 8 {
				ev := bot.Event{ID: fmt.Sprint("e", i), Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: fmt.Sprint(100000000 + i)},
					Kind: bot.EventText, Text: "xin chào", Lang: "vi", At: time.Now()}
				if _, err := e.Handle(ctx, ev); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprint("bench-", i)
		bc := bot.Broadcast{ID: id, Audience: bot.AudienceQuery{Kind: bot.AudienceSubscribed}, Text: bot.Text{VI: "Nhắc hạn nộp sáng kiến"},
			At: time.Now(), Created: time.Now(), State: bot.BroadcastScheduled}
		if err := st.SaveBroadcast(ctx, bc); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		r := &broadcast.Runner{Store: st, Holder: "bench", Tick: 10 * time.Millisecond}
		runCtx, stop := context.WithCancel(ctx)
		go func() { _ = r.Run(runCtx) }()
		for {
			got, err := st.Broadcast(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if got.State == bot.BroadcastQueued {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		stop()
		p, err := st.BroadcastProgress(ctx, id)
		if err != nil || p.Queued != int64(*recipients) {
			b.Fatalf("queued %d of %d: %v", p.Queued, *recipients, err)
		}
		b.ReportMetric(float64(p.Queued)/time.Since(start).Seconds(), "recipients/s")
	}
}
