package intake_test

import (
	"context"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/intake/intaketest"
)

func readDefinition(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("intaketest/testdata/open311/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func feedbackSubmission() bot.Submission {
	return bot.Submission{
		ID: "f-1", Reference: "GY-2026-000004", Lang: "vi", Proposal: bot.Proposal{Kind: bot.KindFeedback,
			Topic: "program", TopicRef: "thu-do-xanh-2027", Rating: 4, Comment: "Trả lời nhanh."},
		Conversation: bot.ConversationRef{Channel: bot.Telegram, ID: "42"},
		SubmittedAt:  time.Date(2026, 11, 28, 9, 30, 0, 0, bot.HoChiMinh()),
	}
}

// attribute[…] carries only what the service's definition declares, each as its
// datatype says (a singlevaluelist key, a multivaluelist as attribute[code][]); the
// rest goes at the end of the description. The strict fake refuses anything else.
func TestOpen311DeclaredAttributes(t *testing.T) {
	srv := intaketest.NewOpen311Server(t, testAPIKey)
	srv.Define("HN-GOPY", readDefinition(t, "definition-gopy-short.json"))
	c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) { cfg.FeedbackServiceCode = "HN-GOPY" })
	if _, err := c.Deliver(context.Background(), feedbackSubmission()); err != nil {
		t.Fatal(err)
	}
	f := srv.Requests()[0]
	attrs := url.Values{}
	for k, v := range f {
		if strings.HasPrefix(k, "attribute[") {
			attrs[k] = v
		}
	}
	want := url.Values{
		"attribute[submission_id]": {"f-1"},
		"attribute[rating]":        {"4"},
		"attribute[lang][]":        {"vi"},
	}
	if !reflect.DeepEqual(attrs, want) {
		t.Errorf("attributes = %v, want %v", attrs, want)
	}
	wantDesc := "Trả lời nhanh.\n\nĐánh giá: 4/5\n\n" + strings.Join([]string{
		"reference: GY-2026-000004", "kind: feedback", "channel: telegram", "topic: program",
		"topic_ref: thu-do-xanh-2027", "submitted_at: 2026-11-28T09:30:00+07:00",
	}, "\n")
	if got := f.Get("description"); got != wantDesc {
		t.Errorf("description = %q, want %q", got, wantDesc)
	}
}

// A service without metadata takes no attribute at all.
func TestOpen311ServiceWithoutMetadata(t *testing.T) {
	srv := intaketest.NewOpen311Server(t, testAPIKey)
	srv.Define("HN-GOPY", nil)
	c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) { cfg.FeedbackServiceCode = "HN-GOPY" })
	if _, err := c.Deliver(context.Background(), feedbackSubmission()); err != nil {
		t.Fatal(err)
	}
	f := srv.Requests()[0]
	for k := range f {
		if strings.HasPrefix(k, "attribute[") {
			t.Errorf("%s sent to a service without metadata", k)
		}
	}
	if d := f.Get("description"); !strings.Contains(d, "\nsubmission_id: f-1\n") || !strings.HasSuffix(d, "rating: 4\nsubmitted_at: 2026-11-28T09:30:00+07:00") {
		t.Errorf("description = %q, want the facts at its end", d)
	}
}

// What the gateway cannot do is said before anything is posted: a service code the
// server does not list, or a definition requiring an answer the gateway does not have.
func TestOpen311DefinitionRefusals(t *testing.T) {
	tests := []struct {
		name, code string
		def        []byte
		detail     string
	}{
		{"service not in services.json", "HN-KHONGCO", nil, `service_code "HN-KHONGCO" is not in the server's services.json`},
		{"required attribute the gateway cannot answer", "DMV66", readDefinition(t, "definition-dmv66.json"), "attribute[WHISHETN]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := intaketest.NewOpen311Server(t, testAPIKey)
			if tt.def != nil {
				srv.Define(tt.code, tt.def)
			}
			c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) { cfg.FeedbackServiceCode = tt.code })
			_, err := c.Deliver(context.Background(), feedbackSubmission())
			if se := sendError(t, err); se.Failure != bot.Permanent || !strings.Contains(se.Detail, tt.detail) {
				t.Errorf("error = %+v, want permanent naming %s", se, tt.detail)
			}
			if srv.Posts() != 0 {
				t.Errorf("posted %d requests", srv.Posts())
			}
		})
	}
}

// The service list and definitions are fetched once per ServicesTTL; a failed refresh
// keeps the last good copy; with no copy at all, the delivery is retried.
func TestOpen311ServiceCache(t *testing.T) {
	srv := intaketest.NewOpen311Server(t, testAPIKey)
	var mu sync.Mutex
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	c := newOpen311Client(t, srv.URL(), func(cfg *intake.Open311Config) {
		cfg.Now, cfg.ServicesTTL = clock, time.Hour
	})
	deliver := func() error {
		_, err := c.Deliver(context.Background(), submission("s-1"))
		return err
	}

	srv.FailCatalog(503)
	if se := sendError(t, deliver()); se.Failure != bot.Retryable || se.Code != 503 || srv.Posts() != 0 {
		t.Fatalf("no catalog yet: error = %+v, posts %d; want retryable 503 and nothing posted", se, srv.Posts())
	}
	srv.FailCatalog(0)
	before := srv.CatalogFetches()
	for range 3 {
		if err := deliver(); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.CatalogFetches() - before; got != 2 {
		t.Errorf("three deliveries fetched the catalog %d times, want 2 (list and definition, once)", got)
	}

	advance(2 * time.Hour)
	srv.FailCatalog(500)
	if err := deliver(); err != nil {
		t.Fatalf("refresh failed: delivery = %v, want the last good copy used", err)
	}
	if f := srv.Requests()[3]; f.Get("attribute[submission_id]") != "s-1" {
		t.Errorf("with the last good copy: attributes %v", f)
	}
	fetches := srv.CatalogFetches()
	if err := deliver(); err != nil {
		t.Fatal(err)
	}
	if got := srv.CatalogFetches(); got != fetches {
		t.Errorf("a failed refresh is tried again at once: %d fetches, want %d", got, fetches)
	}

	srv.FailCatalog(0)
	srv.Define("HN-CAYXANH", nil) // the city drops the definition
	advance(2 * time.Hour)
	if err := deliver(); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if f := reqs[len(reqs)-1]; f.Has("attribute[submission_id]") || !strings.Contains(f.Get("description"), "submission_id: s-1") {
		t.Errorf("after the refresh: form %v, want no attributes", f)
	}
}

// The form is posted as UTF-8, and says so.
func TestOpen311ContentType(t *testing.T) {
	srv := intaketest.NewOpen311Server(t, testAPIKey)
	if _, err := newOpen311Client(t, srv.URL(), nil).Deliver(context.Background(), submission("s-1")); err != nil {
		t.Fatal(err)
	}
	if got := srv.ContentTypes(); len(got) != 1 || got[0] != "application/x-www-form-urlencoded; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
}
