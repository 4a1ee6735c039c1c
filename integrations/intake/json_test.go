package intake_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/intake/intaketest"
)

const testSecret = "intake-test-secret"

func TestJSONDeliver(t *testing.T) {
	srv := intaketest.NewJSONServer(t, testSecret)
	c := newJSONClient(t, srv.URL(), nil)
	sub := submission("s-1")
	r, err := c.Deliver(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	if r != (bot.Receipt{IntakeID: "HN-000001", Status: "received"}) {
		t.Errorf("receipt = %+v", r)
	}
	kept := srv.Submissions()
	if len(kept) != 1 || kept[0].ID != "s-1" || kept[0].Title != sub.Title || kept[0].Contact != sub.Contact {
		t.Fatalf("kept = %+v", kept)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d", len(reqs))
	}
	h := reqs[0].Header
	for k, want := range map[string]string{
		"Content-Type":    "application/json",
		"Idempotency-Key": "s-1",
		"User-Agent":      "sangkien/1",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if err := intake.Verify([]byte(testSecret), h.Get(intake.SignatureHeader), reqs[0].Body, time.Now(), 0); err != nil {
		t.Errorf("signature: %v", err)
	}
	if !bytes.HasPrefix(reqs[0].Body, []byte(`{"schema":"sangkien.submission/v1",`)) {
		t.Errorf("body does not start with the schema: %.60s", reqs[0].Body)
	}
}

// The body posted is byte for byte a line of the JSONL file.
func TestJSONBodyIsFileLine(t *testing.T) {
	srv := intaketest.NewJSONServer(t, testSecret)
	c := newJSONClient(t, srv.URL(), nil)
	path := filepath.Join(t.TempDir(), "submissions.jsonl")
	sink := openSink(t, path)
	sub := submission("s-1")
	sub.Location = &bot.Location{Lat: 21.0285, Lon: 105.8542}
	for _, in := range []bot.Intake{c, sink} {
		if _, err := in.Deliver(context.Background(), sub); err != nil {
			t.Fatal(err)
		}
	}
	line, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if body := srv.Requests()[0].Body; !bytes.Equal(append(body, '\n'), line) {
		t.Errorf("posted body and file line differ:\n%s\n%s", body, line)
	}
}

func TestJSONFailures(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	long := strings.Repeat("é", 600) // 1,200 bytes
	tests := []struct {
		name       string
		answer     intaketest.Answer
		failure    bot.SendFailure
		code       int
		retryAfter time.Duration
		detail     string
	}{
		{"500", intaketest.Answer{Status: 500, Body: "boom"}, bot.Retryable, 500, 0, "boom"},
		{"502", intaketest.Answer{Status: 502}, bot.Retryable, 502, 0, ""},
		{"503 with Retry-After", intaketest.Answer{Status: 503, RetryAfter: "7"}, bot.RateLimited, 503, 7 * time.Second, ""},
		{"408", intaketest.Answer{Status: 408}, bot.Retryable, 408, 0, ""},
		{"429 seconds", intaketest.Answer{Status: 429, RetryAfter: "30"}, bot.RateLimited, 429, 30 * time.Second, ""},
		{"429 date", intaketest.Answer{Status: 429, RetryAfter: now.Add(2 * time.Minute).UTC().Format(http.TimeFormat)}, bot.RateLimited, 429, 2 * time.Minute, ""},
		{"429 date past", intaketest.Answer{Status: 429, RetryAfter: now.Add(-time.Minute).UTC().Format(http.TimeFormat)}, bot.RateLimited, 429, 0, ""},
		{"429 without header", intaketest.Answer{Status: 429}, bot.RateLimited, 429, 0, ""},
		{"429 garbage header", intaketest.Answer{Status: 429, RetryAfter: "soon"}, bot.RateLimited, 429, 0, ""},
		{"400 with body", intaketest.Answer{Status: 400, Body: `{"error":"title missing"}`}, bot.Permanent, 400, 0, `{"error":"title missing"}`},
		{"400 long body trimmed", intaketest.Answer{Status: 400, Body: long}, bot.Permanent, 400, 0, long[:500]},
		{"404", intaketest.Answer{Status: 404}, bot.Permanent, 404, 0, ""},
		{"409", intaketest.Answer{Status: 409}, bot.Permanent, 409, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := intaketest.NewJSONServer(t, testSecret)
			srv.Script(tt.answer)
			c := newJSONClient(t, srv.URL(), func(cfg *intake.JSONConfig) { cfg.Now = func() time.Time { return now } })
			_, err := c.Deliver(context.Background(), submission("s-1"))
			se := sendError(t, err)
			if se.Failure != tt.failure || se.Code != tt.code || se.RetryAfter != tt.retryAfter {
				t.Errorf("error = %+v, want %s code %d after %s", se, tt.failure, tt.code, tt.retryAfter)
			}
			if tt.detail != "" && se.Detail != tt.detail {
				t.Errorf("detail = %q, want %q", se.Detail, tt.detail)
			}
			if len(srv.Submissions()) != 0 {
				t.Errorf("kept %d submissions", len(srv.Submissions()))
			}
		})
	}
}

func TestJSONNoAnswer(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		srv := intaketest.NewJSONServer(t, testSecret)
		srv.Script(intaketest.Answer{Delay: time.Minute})
		c := newJSONClient(t, srv.URL(), func(cfg *intake.JSONConfig) {
			cfg.HTTP = &http.Client{Timeout: 50 * time.Millisecond}
		})
		se := sendError(t, deliverErr(c, "s-1"))
		if se.Failure != bot.Retryable || se.Detail != "timeout" {
			t.Errorf("error = %+v, want retryable timeout", se)
		}
	})
	t.Run("context deadline", func(t *testing.T) {
		srv := intaketest.NewJSONServer(t, testSecret)
		srv.Script(intaketest.Answer{Delay: time.Minute})
		c := newJSONClient(t, srv.URL(), nil)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Deliver(ctx, submission("s-1"))
		if se := sendError(t, err); se.Failure != bot.Retryable || se.Detail != "timeout" {
			t.Errorf("error = %+v, want retryable timeout", se)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		c := newJSONClient(t, url+"/submissions?token=hush", nil)
		se := sendError(t, deliverErr(c, "s-1"))
		if se.Failure != bot.Retryable || se.Detail != "network error" {
			t.Errorf("error = %+v, want retryable network error", se)
		}
		if strings.Contains(se.Error(), "hush") {
			t.Errorf("error carries the URL's query: %v", se)
		}
	})
}

// Failures then success: every attempt carries the same Idempotency-Key and the intake
// keeps one submission, also when it kept it but its answer was lost.
func TestJSONRetriesKeepOne(t *testing.T) {
	srv := intaketest.NewJSONServer(t, testSecret)
	srv.Script(
		intaketest.Answer{Status: 500},
		intaketest.Answer{Status: 500},
		intaketest.Answer{Status: 502, Keep: true},
	)
	c := newJSONClient(t, srv.URL(), nil)
	var receipts []bot.Receipt
	for range 5 {
		r, err := c.Deliver(context.Background(), submission("s-1"))
		if err != nil {
			if se := sendError(t, err); se.Failure != bot.Retryable {
				t.Fatalf("error = %+v, want retryable", se)
			}
			continue
		}
		receipts = append(receipts, r)
	}
	if got := len(srv.Submissions()); got != 1 {
		t.Errorf("kept %d submissions, want 1", got)
	}
	if len(receipts) != 2 || receipts[0] != receipts[1] || receipts[0].IntakeID != "HN-000001" {
		t.Errorf("receipts = %+v, want two equal ones for HN-000001", receipts)
	}
	for i, r := range srv.Requests() {
		if k := r.Header.Get("Idempotency-Key"); k != "s-1" {
			t.Errorf("request %d: Idempotency-Key %q", i, k)
		}
		if r.Status == http.StatusUnauthorized {
			t.Errorf("request %d: signature refused", i)
		}
	}
}

// Break and Fix: a permanent refusal until the intake is fixed, then one delivery.
func TestJSONBrokenThenFixed(t *testing.T) {
	srv := intaketest.NewJSONServer(t, testSecret)
	srv.Break(intaketest.Answer{Status: 400, Body: "schema v1 not enabled"})
	c := newJSONClient(t, srv.URL(), nil)
	for range 2 {
		if se := sendError(t, deliverErr(c, "s-1")); se.Failure != bot.Permanent || se.Detail != "schema v1 not enabled" {
			t.Fatalf("error = %+v", se)
		}
	}
	srv.Fix()
	if err := deliverErr(c, "s-1"); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Submissions()); got != 1 {
		t.Errorf("kept %d submissions, want 1", got)
	}
}

func TestJSONReceipts(t *testing.T) {
	tests := []struct {
		name   string
		answer intaketest.Answer
		want   bot.Receipt
	}{
		{"numeric id", intaketest.Answer{Status: 202, Body: `{"intake_id": 42, "status": "queued"}`}, bot.Receipt{IntakeID: "42", Status: "queued"}},
		{"empty body", intaketest.Answer{Status: 204, Body: " "}, bot.Receipt{}},
		{"text body", intaketest.Answer{Status: 200, Body: "OK"}, bot.Receipt{}},
		{"other JSON", intaketest.Answer{Status: 201, Body: `{"ok": true}`}, bot.Receipt{}},
		{"JSON array", intaketest.Answer{Status: 200, Body: `[1]`}, bot.Receipt{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := intaketest.NewJSONServer(t, testSecret)
			srv.Script(tt.answer)
			r, err := newJSONClient(t, srv.URL(), nil).Deliver(context.Background(), submission("s-1"))
			if err != nil {
				t.Fatal(err)
			}
			if r != tt.want {
				t.Errorf("receipt = %+v, want %+v", r, tt.want)
			}
		})
	}
}

func TestJSONWrongSecret(t *testing.T) {
	srv := intaketest.NewJSONServer(t, testSecret)
	c := newJSONClient(t, srv.URL(), func(cfg *intake.JSONConfig) { cfg.Secret = "not the secret" })
	se := sendError(t, deliverErr(c, "s-1"))
	if se.Failure != bot.Permanent || se.Code != 401 {
		t.Errorf("error = %+v, want permanent 401", se)
	}
	if srv.Refused() != 1 || len(srv.Submissions()) != 0 {
		t.Errorf("refused %d, kept %d", srv.Refused(), len(srv.Submissions()))
	}
}

// A redirect is not followed: following a 302 would turn the POST into a bodiless GET
// whose 2xx would count as a delivery.
func TestJSONRedirectNotFollowed(t *testing.T) {
	srv := intaketest.NewJSONServer(t, testSecret)
	redirect := httptest.NewServer(http.RedirectHandler(srv.URL(), http.StatusFound))
	t.Cleanup(redirect.Close)
	c := newJSONClient(t, redirect.URL, func(cfg *intake.JSONConfig) { cfg.HTTP = &http.Client{} })
	se := sendError(t, deliverErr(c, "s-1"))
	if se.Failure != bot.Permanent || se.Code != http.StatusFound {
		t.Errorf("error = %+v, want permanent 302", se)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("redirect target got %d requests", n)
	}
}

func TestNewJSONClientRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  intake.JSONConfig
	}{
		{"no url", intake.JSONConfig{Secret: "s"}},
		{"relative url", intake.JSONConfig{URL: "/intake", Secret: "s"}},
		{"ftp url", intake.JSONConfig{URL: "ftp://city/intake", Secret: "s"}},
		{"bad url", intake.JSONConfig{URL: "http://[::1", Secret: "s"}},
		{"no secret", intake.JSONConfig{URL: "https://intake.example/submissions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := intake.NewJSONClient(tt.cfg); err == nil {
				t.Error("NewJSONClient succeeded, want an error")
			}
		})
	}
}

func TestJSONSubmissionWithoutID(t *testing.T) {
	srv := intaketest.NewJSONServer(t, testSecret)
	se := sendError(t, deliverErr(newJSONClient(t, srv.URL(), nil), ""))
	if se.Failure != bot.Permanent || len(srv.Requests()) != 0 {
		t.Errorf("error = %+v, requests %d", se, len(srv.Requests()))
	}
}

func newJSONClient(t *testing.T, url string, edit func(*intake.JSONConfig)) *intake.JSONClient {
	t.Helper()
	cfg := intake.JSONConfig{URL: url, Secret: testSecret, Logger: testLogger(t)}
	if edit != nil {
		edit(&cfg)
	}
	c, err := intake.NewJSONClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func deliverErr(in bot.Intake, id string) error {
	_, err := in.Deliver(context.Background(), submission(id))
	return err
}

func sendError(t *testing.T, err error) *bot.SendError {
	t.Helper()
	var se *bot.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *bot.SendError", err, err)
	}
	return se
}

// With a media link maker, each attachment carries its link; the submission given to
// Deliver is left as it was (links are made fresh on every delivery).
func TestJSONAttachmentLinks(t *testing.T) {
	srv := intaketest.NewJSONServer(t, testSecret)
	c := newJSONClient(t, srv.URL(), func(cfg *intake.JSONConfig) {
		cfg.MediaURL = func(a bot.Attachment, s bot.Submission) (string, error) {
			if a.Ref == "broken" {
				return "", errors.New("signer down")
			}
			return "https://gateway.example/media/" + a.Ref + "?sig=x", nil
		}
	})
	sub := submission("s-links")
	sub.Attachments = []bot.Attachment{{Kind: bot.Photo, Ref: "AgAD1"}, {Kind: bot.Document, Ref: "BQAD2", Name: "ke-hoach.pdf"}}
	if _, err := c.Deliver(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	if sub.Attachments[0].URL != "" {
		t.Error("Deliver wrote links into the caller's submission")
	}
	kept := srv.Submissions()
	if len(kept) != 1 || len(kept[0].Attachments) != 2 || kept[0].Attachments[1].URL != "https://gateway.example/media/BQAD2?sig=x" {
		t.Fatalf("kept = %+v", kept)
	}
	sub.ID, sub.Attachments = "s-broken", []bot.Attachment{{Kind: bot.Photo, Ref: "broken"}}
	_, err := c.Deliver(context.Background(), sub)
	var se *bot.SendError
	if !errors.As(err, &se) || se.Failure != bot.Retryable {
		t.Fatalf("a link that cannot be made: %v, want a retryable failure", err)
	}
}
