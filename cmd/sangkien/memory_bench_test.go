package main

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/integrations/telegram"
)

var memoryConvs = flag.Int("memory-convs", 1000, "BenchmarkRedisMemoryPerConversation: conversations (the issue's figure: 10000)")

// BenchmarkRedisMemoryPerConversation takes conversations through the first six turns
// of a proposal (start, initiative, consent, program, field, title) through the webhook
// and the real flows, then sums MEMORY USAGE over every key of the gateway's prefix,
// by kind of key, per conversation. The replies' queue is left out: a dispatcher
// empties it as it sends, and an idle conversation has nothing queued.
//
//	go test -run '^$' -bench RedisMemoryPerConversation -benchtime 1x ./cmd/sangkien/ -memory-convs 10000
func BenchmarkRedisMemoryPerConversation(b *testing.B) {
	g, _, client := benchGateway(b)
	wh, err := telegram.NewWebhook(telegram.Config{Secret: tgSecret, Client: client, Handler: g.engine, Albums: g.store.Albums(), Logger: g.log})
	if err != nil {
		b.Fatal(err)
	}
	n := *memoryConvs
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for c := range work {
				id := 0
				citizen := tgCitizen{chat: int64(20_000_000 + c), lang: "vi", nextID: &id}
				for _, body := range citizen.proposal("Lắp thêm đèn đường ở ngõ 12 phố Hàng Bạc", "", "", "")[:6] {
					id++
					req := httptest.NewRequest(http.MethodPost, "/webhooks/telegram", bytes.NewReader(body))
					req.Header.Set("X-Telegram-Bot-Api-Secret-Token", tgSecret)
					rec := httptest.NewRecorder()
					wh.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Errorf("status %d", rec.Code)
					}
				}
			}
		})
	}
	for c := range n {
		work <- c
	}
	close(work)
	wg.Wait()
	b.StopTimer()

	ctx := context.Background()
	rc := g.redis.Client
	var keys []string
	iter := rc.Scan(ctx, 0, g.store.KeyPrefix()+":*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		b.Fatal(err)
	}
	pipe := rc.Pipeline()
	usage := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		usage[i] = pipe.MemoryUsage(ctx, k, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	byKind := map[string]int64{}
	var total int64
	for i, k := range keys {
		kind := keyKind(strings.TrimPrefix(k, g.store.KeyPrefix()))
		if strings.Contains(kind, ":out:") {
			continue // the replies' queue
		}
		byKind[kind] += usage[i].Val()
		total += usage[i].Val()
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int { return int(byKind[b] - byKind[a]) })
	for _, k := range kinds[:min(len(kinds), 8)] {
		b.Logf("%-40s %7.0f B/conversation", k, float64(byKind[k])/float64(n))
	}
	b.ReportMetric(float64(total)/float64(n), "B/conversation")
	b.ReportMetric(0, "ns/op")
}

// keyKind names a key by its shape, its digits folded away, so that every
// conversation's state counts as one kind.
func keyKind(k string) string { return digits.ReplaceAllString(k, "#") }

var digits = regexp.MustCompile(`[0-9]+`)
