package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/integrations/telegram/telegramtest"
)

var metricsListenLog = regexp.MustCompile(`"msg":"metrics server listening".*"addr":"([^"]+)"|msg="metrics server listening".* addr=(\S+)`)

// scrape GETs url and returns its status code and body.
func scrape(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsEndToEnd: a citizen's turn on the fake Bot API shows on GET /metrics as
// the webhook request, the event, its engine time, the reply's send and the reply
// queue's gauges, with their labels; with METRICS_ADDR the metrics leave the main
// listener for their own.
func TestMetricsEndToEnd(t *testing.T) {
	for _, own := range []bool{false, true} {
		t.Run(map[bool]string{false: "main listener", true: "METRICS_ADDR"}[own], func(t *testing.T) {
			api := telegramtest.NewServer(t)
			env := newTestEnv(t).set(telegramVars(api)...)
			if own {
				env = env.set("METRICS_ADDR", "127.0.0.1:0")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			addr, done, logs := startServeLogged(t, ctx, env)
			metricsURL := "http://" + addr + "/metrics"
			if own {
				m := metricsListenLog.FindStringSubmatch(logs.String())
				if m == nil {
					t.Fatalf("no metrics listener in the log:\n%s", logs)
				}
				metricsURL = "http://" + m[1] + m[2] + "/metrics"
				if code, _ := scrape(t, "http://"+addr+"/metrics"); code != http.StatusNotFound {
					t.Fatalf("GET /metrics on the main listener with METRICS_ADDR set: %d, want 404", code)
				}
			}

			id := 700
			c := tgCitizen{chat: 55501, lang: "vi", nextID: &id}
			postUpdate(t, addr, c.text("/start"))
			want := []string{
				`sangkien_webhook_requests_total{channel="telegram",code="200"} 1`,
				`sangkien_events_total{channel="telegram",kind="command"} 1`,
				`sangkien_event_duration_seconds_count{channel="telegram"} 1`,
				`sangkien_sends_total{channel="telegram",lane="replies",outcome="sent"} `,
				`sangkien_delivery_queue_depth{channel="telegram",lane="replies"} `,
				`sangkien_delivery_queue_oldest_seconds{channel="telegram",lane="bulk"} `,
				`sangkien_outbox_depth 0`,
				`sangkien_queue_scrape_ok 1`,
				`sangkien_redis_round_trips_total `,
				`go_goroutines `,
			}
			var body string
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				var code int
				if code, body = scrape(t, metricsURL); code != http.StatusOK {
					t.Fatalf("GET %s: %d\n%s", metricsURL, code, body)
				}
				if missing(body, want) == "" {
					break
				}
			}
			if m := missing(body, want); m != "" {
				t.Fatalf("GET /metrics lacks %s after the turn:\n%s", m, body)
			}
			if len(sentTo(api, c.chat)) == 0 {
				t.Fatal("the metrics count a send the Bot API never got")
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// missing returns the first of want that body lacks, or "".
func missing(body string, want []string) string {
	for _, w := range want {
		if !strings.Contains(body, w) {
			return w
		}
	}
	return ""
}
