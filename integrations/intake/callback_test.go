package intake_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/redis/go-redis/v9"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/flows"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/locales"
)

const intakeSecret = "test-intake-secret"

// callbackRig is the engine, flows and Redis store of the gateway, with two citizens
// who each made a submission, and the callback handler in front of them: the notices
// are the flows' real ones, and a repeated callback meets the engine's real dedupe.
type callbackRig struct {
	store   *redisstore.Store
	engine  *bot.Engine
	handler http.Handler
	redis   redis.UniversalClient
	vi, en  bot.Submission
}

func newCallbackRig(t *testing.T) *callbackRig {
	t.Helper()
	r := &callbackRig{redis: redistest.Client(t)}
	r.store = redisstore.New(r.redis, redisstore.Options{Prefix: redistest.Prefix(t)})
	catalog, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	router, err := flows.NewRouter(flows.Config{Catalog: catalog, Refs: r.store})
	if err != nil {
		t.Fatal(err)
	}
	r.engine, err = bot.NewEngine(bot.EngineConfig{Store: r.store, Conversation: router, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r.handler, err = intake.NewCallbacks(intake.CallbackConfig{
		Secret: []byte(intakeSecret), Index: r.store, Engine: r.engine, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.vi = r.citizen(t, "5550001", "vi", "Ghế đá ven hồ Tây")
	r.en = r.citizen(t, "5550002", "en", "Benches around West Lake")
	return r
}

// citizen stores a Telegram citizen with one submission in "my submissions", indexed as
// the outbox worker indexes it before delivery.
func (r *callbackRig) citizen(t *testing.T, chat, lang, title string) bot.Submission {
	t.Helper()
	ctx := context.Background()
	conv := bot.ConversationRef{Channel: bot.Telegram, ID: chat}
	sub := bot.Submission{ID: "sub-" + chat, Reference: "SK-2026-" + chat[1:],
		Proposal: bot.Proposal{Kind: bot.KindInitiative, Title: title}, Conversation: conv, Lang: lang}
	lease, err := r.store.Begin(ctx, conv, "seed", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s := &bot.Session{Conversation: conv, Profile: bot.Profile{Lang: lang, Submissions: []bot.SubmissionSummary{{
		ID: sub.ID, Reference: sub.Reference, Kind: sub.Kind, Title: title, Status: bot.StatusSubmitted,
		Changed: time.Now().Add(-time.Hour),
	}}}}
	if err := r.store.Commit(ctx, lease, bot.Change{Session: s}); err != nil {
		t.Fatal(err)
	}
	if err := r.store.Index(ctx, sub); err != nil {
		t.Fatal(err)
	}
	return sub
}

// post sends a callback signed at signedAt (zero: unsigned).
func (r *callbackRig) post(t *testing.T, body []byte, signedAt time.Time, secret string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/callbacks/intake", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if !signedAt.IsZero() {
		req.Header.Set(intake.SignatureHeader, intake.Sign([]byte(secret), signedAt, body))
	}
	rec := httptest.NewRecorder()
	r.handler.ServeHTTP(rec, req)
	return rec
}

// queued reads the texts waiting in the Telegram delivery queue for one conversation.
func (r *callbackRig) queued(t *testing.T, conv bot.ConversationRef) []string {
	t.Helper()
	msgs, err := r.redis.XRange(context.Background(), r.store.OutboundStream(redisstore.ShardOf(conv), conv.Channel), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		var o bot.Outbound
		raw, _ := m.Values["m"].(string)
		if err := json.Unmarshal([]byte(raw), &o); err != nil {
			t.Fatal(err)
		}
		if o.Conversation == conv {
			out = append(out, o.Reply.Text)
		}
	}
	return out
}

func jsonBody(t *testing.T, v map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIntakeCallbacks(t *testing.T) {
	r := newCallbackRig(t)
	now := time.Now()
	msg := map[string]string{"vi": "Sở Xây dựng sẽ khảo sát trong tháng 12.", "en": "The department will survey the site in December."}
	tests := []struct {
		name     string
		body     []byte
		signedAt time.Time
		secret   string
		status   int
		// to and want: the citizen whose queue gets the notice, and what it says.
		to   *bot.Submission
		want []string
	}{
		{name: "Vietnamese citizen, by submission id", status: 200, to: &r.vi,
			body: jsonBody(t, map[string]any{"event_id": "e1", "submission_id": r.vi.ID, "status": "accepted",
				"intake_id": "HN-000042", "message": msg}),
			want: []string{"Hồ sơ " + r.vi.Reference, "Trạng thái mới: Được chấp nhận", "HN-000042", msg["vi"]}},
		{name: "English citizen, by reference", status: 200, to: &r.en,
			body: jsonBody(t, map[string]any{"event_id": "e2", "reference": r.en.Reference, "status": "under_review",
				"message": map[string]string{"vi": "Chỉ có tiếng Việt."}}),
			want: []string{"your submission " + r.en.Reference, "New status: Under review", "Chỉ có tiếng Việt."}},
		{name: "repeated event id", status: 200,
			body: jsonBody(t, map[string]any{"event_id": "e1", "submission_id": r.vi.ID, "status": "accepted", "message": msg})},
		{name: "unsigned", status: 401,
			body: jsonBody(t, map[string]any{"event_id": "e3", "submission_id": r.vi.ID, "status": "rejected"})},
		{name: "wrong secret", status: 401, secret: "not-the-secret",
			body: jsonBody(t, map[string]any{"event_id": "e3", "submission_id": r.vi.ID, "status": "rejected"})},
		{name: "timestamp too old", status: 401, signedAt: now.Add(-6 * time.Minute),
			body: jsonBody(t, map[string]any{"event_id": "e3", "submission_id": r.vi.ID, "status": "rejected"})},
		{name: "unknown submission", status: 404,
			body: jsonBody(t, map[string]any{"event_id": "e4", "submission_id": "nobody", "status": "accepted"})},
		{name: "unknown reference", status: 404,
			body: jsonBody(t, map[string]any{"event_id": "e4", "reference": "SK-2026-999999", "status": "accepted"})},
		{name: "unknown status", status: 400,
			body: jsonBody(t, map[string]any{"event_id": "e5", "submission_id": r.vi.ID, "status": "lost"})},
		{name: "no event id", status: 400,
			body: jsonBody(t, map[string]any{"submission_id": r.vi.ID, "status": "accepted"})},
		{name: "no submission", status: 400,
			body: jsonBody(t, map[string]any{"event_id": "e6", "status": "accepted"})},
		{name: "id and reference disagree", status: 400,
			body: jsonBody(t, map[string]any{"event_id": "e7", "submission_id": r.vi.ID, "reference": r.en.Reference, "status": "accepted"})},
		{name: "message too long", status: 400,
			body: jsonBody(t, map[string]any{"event_id": "e8", "submission_id": r.vi.ID, "status": "accepted",
				"message": map[string]string{"vi": strings.Repeat("á", 2001)}})},
		{name: "not JSON", status: 400, body: []byte(`status=accepted`)},
		{name: "too large", status: 413, body: bytes.Repeat([]byte(" "), 64<<10+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signedAt, secret := tt.signedAt, tt.secret
			if signedAt.IsZero() && tt.name != "unsigned" {
				signedAt = time.Now()
			}
			if secret == "" {
				secret = intakeSecret
			}
			before := map[bot.ConversationRef]int{}
			for _, s := range []bot.Submission{r.vi, r.en} {
				before[s.Conversation] = len(r.queued(t, s.Conversation))
			}
			rec := r.post(t, tt.body, signedAt, secret)
			if rec.Code != tt.status {
				t.Fatalf("status %d %s, want %d", rec.Code, rec.Body, tt.status)
			}
			for _, s := range []bot.Submission{r.vi, r.en} {
				got := r.queued(t, s.Conversation)[before[s.Conversation]:]
				if tt.to == nil || tt.to.ID != s.ID {
					if len(got) != 0 {
						t.Errorf("%s got %q, want nothing", s.Reference, got)
					}
					continue
				}
				if len(got) != 1 {
					t.Fatalf("%s got %d notices, want 1: %q", s.Reference, len(got), got)
				}
				for _, w := range tt.want {
					if !strings.Contains(got[0], w) {
						t.Errorf("notice %q lacks %q", got[0], w)
					}
				}
			}
		})
	}

	// "My submissions" shows the new status.
	for _, c := range []struct {
		sub  bot.Submission
		want string
	}{{r.vi, "Trạng thái: Được chấp nhận"}, {r.en, "Status: Under review"}} {
		out, err := r.engine.Handle(context.Background(), bot.Event{
			ID: "mine-" + c.sub.ID, Conversation: c.sub.Conversation, Kind: bot.EventCommand, Command: "status",
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Replies) == 0 || !strings.Contains(out.Replies[0].Reply.Text, c.want) {
			t.Errorf("my submissions of %s = %+v, want %q", c.sub.Reference, out.Replies, c.want)
		}
	}
}
