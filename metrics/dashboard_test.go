package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
)

// Every metric the Grafana dashboard in docs/ queries is one the gateway serves.
func TestDashboardQueriesServedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	m := newMetrics(t)
	m.WatchQueues(&fakeQueues{progress: map[string]bot.BroadcastProgress{}}, []bot.Channel{bot.Telegram})
	tg := bot.ConversationRef{Channel: bot.Telegram, ID: "1"}
	_ = m.Sender(&scriptedSender{errs: []error{
		&bot.SendError{Failure: bot.RateLimited, RetryAfter: time.Second},
	}}).Send(context.Background(), bot.Outbound{Conversation: tg})
	_, _ = m.Events(recordingHandler{fail: true}).Handle(context.Background(), bot.Event{Conversation: tg, Kind: bot.EventText})
	now := time.Now()
	_, _ = m.Turns(outcomeHandler{bot.Outcome{Steps: []bot.StepMove{{Flow: "initiative", Step: "title", Outcome: bot.StepReached}},
		Answer: &bot.AnswerPair{WaitingSince: now.Add(-time.Minute), Answered: now}}}).
		Handle(context.Background(), bot.Event{Conversation: tg, Kind: bot.EventStaffReply})
	_, _ = m.Intake(&scriptedIntake{errs: []error{nil}}).Deliver(context.Background(), bot.Submission{})
	m.CountRedis(redistest.Client(t))
	m.Webhook(bot.Telegram, http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", nil))
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, f := range families {
		served[f.GetName()] = true
	}
	names := regexp.MustCompile(`\b(sangkien_[a-z_]+|go_[a-z_]+|process_[a-z_]+)`).FindAllString(string(raw), -1)
	if len(names) == 0 {
		t.Fatal("the dashboard queries no metric")
	}
	for _, n := range names {
		base := n
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if b, ok := strings.CutSuffix(n, suffix); ok && served[b] {
				base = b
			}
		}
		if !served[base] {
			t.Errorf("the dashboard queries %s, which is not served", n)
		}
	}
}

// outcomeHandler answers every event with out.
type outcomeHandler struct{ out bot.Outcome }

func (h outcomeHandler) Handle(context.Context, bot.Event) (bot.Outcome, error) { return h.out, nil }
