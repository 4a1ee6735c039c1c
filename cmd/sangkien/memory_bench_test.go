package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/integrations/telegram"
)

var (
	memoryConvs = flag.Int("memory-convs", 1000, "BenchmarkRedisMemoryPerConversation: conversations (the issue's figure: 10000)")
	memoryTurns = flag.Int("memory-turns", 6, "BenchmarkRedisMemoryPerConversation: turns of the proposal each takes (15: the whole, to its reference code)")
)

// BenchmarkRedisMemoryPerConversation takes conversations through the first
// -memory-turns turns of a proposal (six: start, initiative, consent, program, field,
// title; 15: the whole, to its reference code) through the webhook
// and the real flows, then sums MEMORY USAGE over every key of the gateway's prefix,
// by kind of key, per conversation (B/conversation), and reads how much INFO memory's
// used_memory grew (B/conversation(INFO): the whole server's, so other clients of a
// shared Redis add to it); then the same of the conversation's own keys alone
// (own-B/conversation: state, profile, transcript, dedupe, without the inbox's card
// and its places in the shared indexes). The replies' queue and the intake's outbox are left out,
// and deleted before INFO is read: a dispatcher and the intake's worker empty them as
// they send, and an idle conversation has nothing queued. The key prefix is two characters, as long as the default (sk), so that key
// names are as long as a gateway's: a test's own prefix adds 14 bytes to every name.
//
//	go test -run '^$' -bench RedisMemoryPerConversation -benchtime 1x ./cmd/sangkien/ -memory-convs 10000
//	go test -run '^$' -bench RedisMemoryPerConversation -benchtime 1x ./cmd/sangkien/ -memory-convs 10000 -memory-turns 15
func BenchmarkRedisMemoryPerConversation(b *testing.B) {
	g, client := memoryGateway(b)
	ctx := context.Background()
	rc := g.redis.Client
	before := usedMemory(b, rc)
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
				for _, body := range memoryProposal(citizen) {
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
		if strings.Contains(kind, ":out:") || strings.HasSuffix(kind, ":outbox") {
			if err := rc.Del(ctx, k).Err(); err != nil { // the replies' queue, the intake's
				b.Fatal(err)
			}
			continue
		}
		byKind[kind] += usage[i].Val()
		total += usage[i].Val()
	}
	info := usedMemory(b, rc) - before
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int { return int(byKind[b] - byKind[a]) })
	for _, k := range kinds[:min(len(kinds), 8)] {
		b.Logf("%-40s %7.0f B/conversation", k, float64(byKind[k])/float64(n))
	}
	// The conversation's own keys as the issue lists them (state, profile, transcript,
	// dedupe): their MEMORY USAGE, and used_memory once every other key is deleted (the
	// inbox's card, the places in the shared indexes, the intake's records), which
	// still counts the server's tables as sized for all of them, and the shared phrase
	// registry (a few KB for every conversation together).
	var own int64
	for i, k := range keys {
		kind := keyKind(strings.TrimPrefix(k, g.store.KeyPrefix()))
		switch {
		case ownKind.MatchString(kind):
			own += usage[i].Val()
		case strings.Contains(kind, ":out:") || strings.HasSuffix(kind, ":outbox") || strings.HasPrefix(kind, ":{phr}:"):
		default:
			if err := rc.Del(ctx, k).Err(); err != nil {
				b.Fatal(err)
			}
		}
	}
	ownInfo := usedMemory(b, rc) - before
	b.ReportMetric(float64(total)/float64(n), "B/conversation")
	b.ReportMetric(float64(info)/float64(n), "B/conversation(INFO)")
	b.ReportMetric(float64(own)/float64(n), "own-B/conversation")
	b.ReportMetric(float64(ownInfo)/float64(n), "own-B/conversation(INFO)")
	b.ReportMetric(0, "ns/op")
}

// ownKind matches the kinds of key (keyKind) that are one conversation's own: its
// state, profile, transcript and dedupe set.
var ownKind = regexp.MustCompile(`^:\{s#\}:(state|prof|tr|seen):`)

// memoryProposal is the first -memory-turns updates of a proposal: the first six as
// the figures before the flag were measured with, the rest as the other benchmarks'.
func memoryProposal(c tgCitizen) [][]byte {
	whole := c.proposal("Lắp thêm đèn đường ở ngõ 12 phố Hàng Bạc", "Phố Huế nắng nóng, ít bóng mát cho người đi bộ; cần trồng thêm cây dọc vỉa hè.",
		"Phố mát hơn, người dân đi bộ nhiều hơn.", "Trần Văn Minh")
	return whole[:min(max(*memoryTurns, 1), len(whole))]
}

// keyKind names a key by its shape, its digits folded away, so that every
// conversation's state counts as one kind.
func keyKind(k string) string { return digits.ReplaceAllString(k, "#") }

var digits = regexp.MustCompile(`[0-9]+`)

// memoryGateway is benchGateway's gateway under a prefix as short as the default one.
func memoryGateway(b *testing.B) (*gateway, *telegram.Client) {
	b.Helper()
	var r [1]byte
	_, _ = rand.Read(r[:])
	prefix := "m" + string(rune('a'+r[0]%26))
	g, _, client := benchGatewayIn(b, newTestEnv(b).set("REDIS_PREFIX", prefix))
	b.Cleanup(func() { // before the gateway's own cleanup closes its client
		if err := redistest.Delete(context.Background(), g.redis.Client, prefix+":"); err != nil {
			b.Errorf("delete keys under %s: %v", prefix, err)
		}
	})
	if n, err := g.redis.Client.Exists(context.Background(), prefix+":{phr}:txt").Result(); err != nil || n != 0 {
		b.Fatalf("prefix %s is in use (%v): run again", prefix, err)
	}
	return g, client
}

// usedMemory is INFO memory's used_memory.
func usedMemory(b *testing.B, rc redis.UniversalClient) int64 {
	b.Helper()
	info, err := rc.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("INFO memory has no used_memory")
	return 0
}
