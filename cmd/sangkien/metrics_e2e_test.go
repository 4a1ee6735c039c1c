package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

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
// queue's gauges, with their labels; a short chat and an operator's reply from the
// console as the flow's steps, the staff reply and its first-answer time; with
// METRICS_ADDR the metrics leave the main listener for their own.
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
			postUpdate(t, api, addr, c.text("/start"))
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
			waitMetrics(t, metricsURL, "the turn", want)
			if len(sentTo(api, c.chat)) == 0 {
				t.Fatal("the metrics count a send the Bot API never got")
			}

			// The citizen starts an initiative, answers the consent and asks for a person;
			// an operator answers from the console's API.
			for _, u := range [][]byte{c.press("cmd:initiative"), c.press("agree"), c.press("cmd:human")} {
				postUpdate(t, api, addr, u)
			}
			token := addOperator(t, ctx, env)
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/console/api/conversations/tg:55501/reply",
				strings.NewReader(`{"text":"Chào bạn, tôi là Lan."}`))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("the console's reply: %d", resp.StatusCode)
			}
			waitMetrics(t, metricsURL, "the chat and the staff's reply", []string{
				`sangkien_flow_steps_total{flow="initiative",outcome="reached",step="consent"} 1`,
				`sangkien_flow_steps_total{flow="initiative",outcome="answered",step="consent"} 1`,
				`sangkien_staff_replies_total{channel="telegram"} 1`,
				`sangkien_staff_first_answer_seconds_count{channel="telegram"} 1`,
				`sangkien_staff_actions_total{action="reply"} 1`,
			})
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// waitMetrics scrapes url until its body holds every line of want, and fails the test
// when it does not within 20 seconds (the replies are sent in the background).
func waitMetrics(t *testing.T, url, after string, want []string) {
	t.Helper()
	var body string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var code int
		if code, body = scrape(t, url); code != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", url, code, body)
		}
		if missing(body, want) == "" {
			return
		}
	}
	t.Fatalf("GET /metrics lacks %s after %s:\n%s", missing(body, want), after, body)
}

// addOperator adds an operator account with `sangkien staff` and returns its API token.
func addOperator(t *testing.T, ctx context.Context, env testEnv) string {
	t.Helper()
	staffBcryptCost = bcrypt.MinCost
	t.Cleanup(func() { staffBcryptCost = 12 })
	addStaff(t, ctx, env, "lan@hanoi.gov.vn", "Nguyễn Thị Lan", "operator", "mật khẩu của Lan 2026")
	var out, errs strings.Builder
	if err := run(ctx, []string{"staff", "token", "lan@hanoi.gov.vn"}, env.get, strings.NewReader(""), &out, &errs); err != nil {
		t.Fatalf("staff token: %v %s", err, errs.String())
	}
	return strings.TrimSpace(out.String())
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
