package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/bottest"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/envvar"
	"github.com/sangkien/sangkien/lifecycle"
)

func newMetrics(t *testing.T) *Metrics {
	t.Helper()
	return New(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// scriptedSender answers each send with the next of its errors.
type scriptedSender struct{ errs []error }

func (s *scriptedSender) Send(context.Context, bot.Outbound) error {
	err := s.errs[0]
	s.errs = s.errs[1:]
	return err
}

type typingScripted struct {
	scriptedSender
	typed int
}

func (s *typingScripted) ShowTyping(context.Context, bot.ConversationRef) error {
	s.typed++
	return nil
}

// Every send is counted by channel, lane and outcome, and a 429's wait is added up.
func TestSenderCountsOutcomes(t *testing.T) {
	m := newMetrics(t)
	next := &scriptedSender{errs: []error{
		nil, nil,
		&bot.SendError{Failure: bot.Retryable, Code: 502},
		&bot.SendError{Failure: bot.RateLimited, Code: 429, RetryAfter: 3 * time.Second},
		&bot.SendError{Failure: bot.RateLimited, Code: 429, RetryAfter: 2 * time.Second},
		&bot.SendError{Failure: bot.Permanent, Code: 400},
		&bot.SendError{Failure: bot.Gone, Code: 403},
		errors.New("connection reset"),
	}}
	s := m.Sender(next)
	if _, ok := s.(bot.Typer); ok {
		t.Fatal("the wrapper of a sender that cannot show typing claims it can")
	}
	tg := bot.ConversationRef{Channel: bot.Telegram, ID: "1"}
	sends := []bot.Outbound{
		{Conversation: tg}, {Conversation: tg, Broadcast: "b1"}, {Conversation: tg},
		{Conversation: tg, Broadcast: "b1"}, {Conversation: tg, Broadcast: "b1"},
		{Conversation: tg}, {Conversation: tg, Broadcast: "b1"}, {Conversation: tg},
	}
	for i, o := range sends {
		err := s.Send(context.Background(), o)
		if (err == nil) != (i < 2) {
			t.Fatalf("send %d: %v; the wrapper must hand the sender's answer back", i, err)
		}
	}
	for _, c := range []struct {
		lane, outcome string
		want          float64
	}{
		{"replies", "sent", 1}, {"bulk", "sent", 1}, {"replies", "retried", 2},
		{"bulk", "rate_limited", 2}, {"replies", "failed", 1}, {"bulk", "gone", 1},
	} {
		if got := testutil.ToFloat64(m.sends.WithLabelValues("telegram", c.lane, c.outcome)); got != c.want {
			t.Errorf("sends{%s,%s} = %g, want %g", c.lane, c.outcome, got, c.want)
		}
	}
	if got := testutil.ToFloat64(m.rateLimitWait.WithLabelValues("telegram", "bulk")); got != 5 {
		t.Errorf("rate-limited wait = %gs, want 5s", got)
	}
	if n := testutil.CollectAndCount(m.sends); n != 6 {
		t.Errorf("%d send series, want 6", n)
	}
}

// A sender that shows typing keeps doing so through the wrapper.
func TestSenderKeepsTyping(t *testing.T) {
	m := newMetrics(t)
	next := &typingScripted{scriptedSender: scriptedSender{errs: []error{nil}}}
	typer, ok := m.Sender(next).(bot.Typer)
	if !ok {
		t.Fatal("the wrapper hides the sender's ShowTyping")
	}
	if err := typer.ShowTyping(context.Background(), bot.ConversationRef{Channel: bot.Zalo, ID: "z"}); err != nil || next.typed != 1 {
		t.Fatalf("ShowTyping = %v, typed %d times", err, next.typed)
	}
}

// Webhook requests are counted by channel and the status code answered, 200 when the
// handler only writes a body.
func TestWebhookCountsStatusCodes(t *testing.T) {
	m := newMetrics(t)
	h := m.Webhook(bot.Zalo, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("answer") {
		case "401":
			http.Error(w, "bad signature", http.StatusUnauthorized)
		case "body":
			_, _ = io.WriteString(w, "ok")
		}
	}))
	for _, q := range []string{"401", "body", "", "401"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhooks/zalo?answer="+q, nil))
		if q == "401" && rec.Code != http.StatusUnauthorized {
			t.Fatalf("the wrapper changed the answer: %d", rec.Code)
		}
	}
	want := `
# HELP sangkien_webhook_requests_total Webhook requests by channel and HTTP status code answered.
# TYPE sangkien_webhook_requests_total counter
sangkien_webhook_requests_total{channel="zalo",code="200"} 2
sangkien_webhook_requests_total{channel="zalo",code="401"} 2
`
	if err := testutil.CollectAndCompare(m.webhookRequests, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// Requests that failed authentication are counted by endpoint and the code answered.
func TestUnauthenticatedCounted(t *testing.T) {
	m := newMetrics(t)
	m.Unauthenticated("zalo", false)
	m.Unauthenticated("zalo", true)
	m.Unauthenticated("zalo", true)
	m.Unauthenticated("intake callback", false)
	want := `
# HELP sangkien_unauthenticated_requests_total Requests to a webhook or the intake callback that failed authentication, by endpoint and the code answered (401, or 429 once the address is over WEBHOOK_AUTH_LIMIT).
# TYPE sangkien_unauthenticated_requests_total counter
sangkien_unauthenticated_requests_total{code="401",endpoint="intake callback"} 1
sangkien_unauthenticated_requests_total{code="401",endpoint="zalo"} 1
sangkien_unauthenticated_requests_total{code="429",endpoint="zalo"} 2
`
	if err := testutil.CollectAndCompare(m.unauthenticated, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

type recordingHandler struct{ fail bool }

func (h recordingHandler) Handle(_ context.Context, ev bot.Event) (bot.Outcome, error) {
	if h.fail {
		return bot.Outcome{}, errors.New("redis is down")
	}
	return bot.Outcome{}, nil
}

// Events are counted by channel and kind, timed by channel, and those the engine could
// not run counted apart.
func TestEventsCountAndTime(t *testing.T) {
	m := newMetrics(t)
	tg := bot.ConversationRef{Channel: bot.Telegram, ID: "1"}
	ok, failing := m.Events(recordingHandler{}), m.Events(recordingHandler{fail: true})
	for _, k := range []bot.EventKind{bot.EventText, bot.EventText, bot.EventButton} {
		if _, err := ok.Handle(context.Background(), bot.Event{ID: "e", Conversation: tg, Kind: k}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := failing.Handle(context.Background(), bot.Event{ID: "f", Conversation: tg, Kind: bot.EventLocation}); err == nil {
		t.Fatal("the wrapper swallowed the engine's error")
	}
	for kind, want := range map[string]float64{"text": 2, "button": 1, "location": 1} {
		if got := testutil.ToFloat64(m.events.WithLabelValues("telegram", kind)); got != want {
			t.Errorf("events{telegram,%s} = %g, want %g", kind, got, want)
		}
	}
	if got := testutil.ToFloat64(m.eventErrors.WithLabelValues("telegram")); got != 1 {
		t.Errorf("event errors = %g, want 1", got)
	}
	if !strings.Contains(gathered(t, m), `sangkien_event_duration_seconds_count{channel="telegram"} 4`) {
		t.Errorf("the histogram did not time the 4 events:\n%s", gathered(t, m))
	}
}

// fakeQueues is a QueueStore with fixed answers, or an error.
type fakeQueues struct {
	err      error
	progress map[string]bot.BroadcastProgress
}

func (f *fakeQueues) QueueStats(_ context.Context, channels []bot.Channel) ([]redisstore.QueueStat, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []redisstore.QueueStat
	for _, ch := range channels {
		out = append(out, redisstore.QueueStat{Channel: ch, Lane: redisstore.LaneReplies, Depth: 4, Oldest: 1500 * time.Millisecond},
			redisstore.QueueStat{Channel: ch, Lane: redisstore.LaneBulk})
	}
	return append(out, redisstore.QueueStat{Lane: redisstore.LaneOutbox, Depth: 2, Oldest: time.Minute}), nil
}

func (f *fakeQueues) Broadcasts(context.Context, int) ([]bot.Broadcast, error) {
	if f.err != nil {
		return nil, f.err
	}
	return []bot.Broadcast{{ID: "b2", State: bot.BroadcastScheduled}, {ID: "b1", State: bot.BroadcastQueued}}, nil
}

func (f *fakeQueues) BroadcastProgress(_ context.Context, id string) (bot.BroadcastProgress, error) {
	return f.progress[id], nil
}

// A scrape reads the queues' depth and age by channel and lane, the outbox, and the
// recipients of the broadcasts already queued, by state.
func TestQueueCollector(t *testing.T) {
	m := newMetrics(t)
	p := bot.BroadcastProgress{Queued: 10, Sent: 5, Failed: 1, Cancelled: 1, Shards: 32, ShardsDone: 32}
	p.AddSkipped(bot.SkipStopped, 2)
	m.WatchQueues(&fakeQueues{progress: map[string]bot.BroadcastProgress{"b1": p}}, []bot.Channel{bot.Telegram})
	want := `
# HELP sangkien_broadcast_recipients Recipients of the latest broadcasts by broadcast and state (pending, sent, failed, skipped, cancelled).
# TYPE sangkien_broadcast_recipients gauge
sangkien_broadcast_recipients{broadcast="b1",state="cancelled"} 1
sangkien_broadcast_recipients{broadcast="b1",state="failed"} 1
sangkien_broadcast_recipients{broadcast="b1",state="pending"} 1
sangkien_broadcast_recipients{broadcast="b1",state="sent"} 5
sangkien_broadcast_recipients{broadcast="b1",state="skipped"} 2
# HELP sangkien_delivery_queue_depth Replies and bulk messages waiting in the delivery queues, by channel and lane (replies, bulk).
# TYPE sangkien_delivery_queue_depth gauge
sangkien_delivery_queue_depth{channel="telegram",lane="bulk"} 0
sangkien_delivery_queue_depth{channel="telegram",lane="replies"} 4
# HELP sangkien_delivery_queue_oldest_seconds Age of the oldest message waiting in a delivery queue, by channel and lane; 0 when empty.
# TYPE sangkien_delivery_queue_oldest_seconds gauge
sangkien_delivery_queue_oldest_seconds{channel="telegram",lane="bulk"} 0
sangkien_delivery_queue_oldest_seconds{channel="telegram",lane="replies"} 1.5
# HELP sangkien_outbox_depth Submissions waiting in the outbox for the intake.
# TYPE sangkien_outbox_depth gauge
sangkien_outbox_depth 2
# HELP sangkien_outbox_oldest_seconds Age of the oldest submission waiting in the outbox; 0 when empty.
# TYPE sangkien_outbox_oldest_seconds gauge
sangkien_outbox_oldest_seconds 60
# HELP sangkien_queue_scrape_ok 1 when the last scrape read the queues from Redis, 0 when it could not.
# TYPE sangkien_queue_scrape_ok gauge
sangkien_queue_scrape_ok 1
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want),
		"sangkien_broadcast_recipients", "sangkien_delivery_queue_depth", "sangkien_delivery_queue_oldest_seconds",
		"sangkien_outbox_depth", "sangkien_outbox_oldest_seconds", "sangkien_queue_scrape_ok"); err != nil {
		t.Fatal(err)
	}
}

// When Redis does not answer, the scrape still serves the rest and says so.
func TestQueueCollectorWithoutRedis(t *testing.T) {
	m := newMetrics(t)
	m.WatchQueues(&fakeQueues{err: errors.New("dial tcp: connection refused")}, []bot.Channel{bot.Telegram})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path, nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "sangkien_queue_scrape_ok 0") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("scrape without Redis: %d\n%s", rec.Code, body)
	}
	if strings.Contains(body, "sangkien_delivery_queue_depth") {
		t.Fatalf("a depth was made up without Redis:\n%s", body)
	}
}

// METRICS_ADDR must be host:port; empty keeps the metrics on the main listener.
func TestReadSettings(t *testing.T) {
	for _, c := range []struct {
		addr    string
		wantErr bool
	}{{"", false}, {"127.0.0.1:9090", false}, {":9090", false}, {"9090", true}} {
		r := envvar.NewReader(func(n string) string {
			if n == "METRICS_ADDR" {
				return c.addr
			}
			return ""
		}, EnvVars)
		s := ReadSettings(r)
		if (r.Err() != nil) != c.wantErr || (!c.wantErr && s.Addr != c.addr) {
			t.Errorf("METRICS_ADDR=%q: %+v, %v", c.addr, s, r.Err())
		}
	}
}

// Serve mounts /metrics on the main mux, or on a listener of its own that parts stop.
func TestServe(t *testing.T) {
	m := newMetrics(t)
	mux := http.NewServeMux()
	parts := &lifecycle.Parts{Log: m.log}
	if err := m.Serve(Settings{}, mux, parts); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path, nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "go_goroutines") {
		t.Fatalf("GET /metrics on the main mux: %d", rec.Code)
	}
	logs := &bottest.LogBuffer{}
	m.log = logs.Logger()
	public := http.NewServeMux()
	if err := m.Serve(Settings{Addr: "127.0.0.1:0"}, public, parts); err != nil {
		t.Fatal(err)
	}
	rec = httptest.NewRecorder()
	public.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path, nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET /metrics on the main mux with an address of its own: %d", rec.Code)
	}
	addr, ok := strings.CutPrefix(regexp.MustCompile(`addr=\S+`).FindString(logs.String()), "addr=")
	if !ok {
		t.Fatalf("no listening line:\n%s", logs)
	}
	resp, err := http.Get("http://" + addr + Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics on its own listener: %d", resp.StatusCode)
	}
	if err := m.Serve(Settings{Addr: "127.0.0.1:bad"}, http.NewServeMux(), parts); err == nil ||
		!strings.Contains(err.Error(), "METRICS_ADDR") {
		t.Fatalf("a bad METRICS_ADDR: %v", err)
	}
	if err := parts.Stop(time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + Path); err == nil {
		t.Fatal("the metrics listener still answers after parts stopped")
	}
}

func gathered(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path, nil))
	return rec.Body.String()
}

// scriptedIntake answers each delivery with the next of its errors.
type scriptedIntake struct{ errs []error }

func (s *scriptedIntake) Deliver(context.Context, bot.Submission) (bot.Receipt, error) {
	err := s.errs[0]
	s.errs = s.errs[1:]
	return bot.Receipt{IntakeID: "SR-1"}, err
}

// Every attempt to hand a submission over is counted by its kind and outcome.
func TestIntakeCountsDeliveries(t *testing.T) {
	m := newMetrics(t)
	in := m.Intake(&scriptedIntake{errs: []error{
		nil, &bot.SendError{Failure: bot.Retryable, Code: 503}, errors.New("timeout"),
		&bot.SendError{Failure: bot.Permanent, Code: 400}, nil,
	}})
	for i, kind := range []string{bot.KindInitiative, bot.KindInitiative, bot.KindInitiative, bot.KindFeedback, bot.KindFeedback} {
		rec, err := in.Deliver(context.Background(), bot.Submission{ID: "s", Proposal: bot.Proposal{Kind: kind}})
		if rec.IntakeID != "SR-1" || (err == nil) != (i == 0 || i == 4) {
			t.Fatalf("delivery %d: %+v, %v; the wrapper must hand the intake's answer back", i, rec, err)
		}
	}
	want := `
# HELP sangkien_intake_deliveries_total Attempts to hand a submission to the city's intake, by kind (initiative, feedback) and outcome (delivered, retried, refused).
# TYPE sangkien_intake_deliveries_total counter
sangkien_intake_deliveries_total{kind="feedback",outcome="delivered"} 1
sangkien_intake_deliveries_total{kind="feedback",outcome="refused"} 1
sangkien_intake_deliveries_total{kind="initiative",outcome="delivered"} 1
sangkien_intake_deliveries_total{kind="initiative",outcome="retried"} 2
`
	if err := testutil.CollectAndCompare(m.intakeDeliveries, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// The round trips of a client are counted: a command alone one, a pipeline one.
func TestCountRedis(t *testing.T) {
	m := newMetrics(t)
	c := redistest.Client(t)
	m.CountRedis(c)
	ctx := context.Background()
	key := redistest.Prefix(t) + ":n"
	if err := c.Set(ctx, key, "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	pipe := c.Pipeline()
	pipe.Incr(ctx, key)
	pipe.Get(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(gathered(t, m), "sangkien_redis_round_trips_total 2\n") {
		t.Fatalf("round trips not counted as 2:\n%s", gathered(t, m))
	}
}
