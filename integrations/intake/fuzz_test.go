package intake_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/intake"
)

// fuzzNow is the receiver's clock in the callback and signature targets.
var fuzzNow = time.Date(2026, 11, 29, 2, 30, 0, 0, time.UTC)

// The submission the callback target's index holds, as the docs' example names it.
var fuzzSubmission = bot.IndexedSubmission{ID: "9f2c4e7a1b3d5f6081a2c3e4f5061728", Reference: "SK-2026-000123",
	Kind: bot.KindInitiative, Conversation: bot.ConversationRef{Channel: bot.Zalo, ID: "7392845012349876543"}}

// FuzzVerify holds the signature's promises: what Sign signs, Verify takes, at any
// time within the tolerance; a body changed in one byte never verifies, nor does a
// header changed in one character unless it still carries the same timestamp and the
// same signature (hex is read in either case).
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"event_id":"e1","submission_id":"s","status":"accepted"}`), int64(1764383400), uint16(3), byte('x'))
	f.Add([]byte{}, int64(0), uint16(0), byte(','))
	f.Add([]byte("\xff"), int64(-62135596800), uint16(80), byte('A'))
	secret := []byte("test-intake-secret")
	f.Fuzz(func(t *testing.T, body []byte, unix int64, at uint16, b byte) {
		when := time.Unix(unix, 0)
		h := intake.Sign(secret, when, body)
		if err := intake.Verify(secret, h, body, when.Add(4*time.Minute), 0); err != nil {
			t.Fatalf("Sign(%q) = %s does not verify: %v", body, h, err)
		}
		if len(body) > 0 {
			changed := slices.Clone(body)
			changed[int(at)%len(changed)] ^= b | 1
			if intake.Verify(secret, h, changed, when, 0) == nil {
				t.Fatalf("%s verifies body %q changed to %q", h, body, changed)
			}
		}
		mutated := []byte(h)
		mutated[int(at)%len(mutated)] = b
		if m := string(mutated); m != h && intake.Verify(secret, m, body, when, 0) == nil {
			ts, sig, _ := strings.Cut(strings.TrimPrefix(h, "t="), ",v1=")
			if !strings.Contains(m, "t="+ts+",") && !strings.HasSuffix(m, "t="+ts) || !strings.Contains(strings.ToLower(m), "v1="+sig) {
				t.Fatalf("%s changed to %s still verifies", h, m)
			}
		}
	})
}

// FuzzCallback holds the callback's first promise: a request whose signature does not
// verify never reaches the engine and is answered 401 (413 for a body over 64 KiB,
// which is read first). Each input is posted with the fuzzed header, with the right
// signature but one hex digit changed, signed with another secret, and signed six
// minutes ago; then rightly signed, when the engine is reached only for a 200, once,
// with the event of the indexed submission.
func FuzzCallback(f *testing.F) {
	example := `{"event_id":"evt-2026-11-29-000871","submission_id":"9f2c4e7a1b3d5f6081a2c3e4f5061728","status":"under_review",` +
		`"message":{"vi":"Sở Xây dựng đang xem xét sáng kiến của bạn.","en":"The Department of Construction is reviewing your initiative."}}`
	f.Add([]byte(example), "t=1764383400,v1=00", uint16(20))
	f.Add([]byte(`{"event_id":"e2","reference":"SK-2026-000123","status":"accepted","intake_id":"HN-000042","at":"2026-11-29T09:00:00+07:00"}`), "", uint16(0))
	f.Add([]byte(`{"event_id":"e3","submission_id":"9f2c4e7a1b3d5f6081a2c3e4f5061728","reference":"SK-2026-999999","status":"rejected"}`), "t=1,v1=zz,v1=", uint16(64))
	f.Add([]byte(`{"event_id":"e4","submission_id":"nobody","status":"implemented"}`), "v1=", uint16(9))
	f.Fuzz(func(t *testing.T, body []byte, header string, flip uint16) {
		engine := &fuzzEngine{}
		h, err := intake.NewCallbacks(intake.CallbackConfig{Secret: []byte(intakeSecret), Index: fuzzIndex{},
			Engine: engine, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return fuzzNow }})
		if err != nil {
			t.Fatal(err)
		}
		right := intake.Sign([]byte(intakeSecret), fuzzNow, body)
		forged := map[string]string{
			"one digit": changeHexDigit(right, int(flip)),
			"other key": intake.Sign([]byte("another-secret"), fuzzNow, body),
			"too old":   intake.Sign([]byte(intakeSecret), fuzzNow.Add(-6*time.Minute), body),
		}
		if intake.Verify([]byte(intakeSecret), header, body, fuzzNow, 0) != nil {
			forged["fuzzed"] = header // else the fuzzer wrote a right signature
		}
		for how, sig := range forged {
			code, _ := postCallback(h, sig, body)
			want := http.StatusUnauthorized
			if len(body) > 64<<10 {
				want = http.StatusRequestEntityTooLarge
			}
			if code != want || len(engine.events) != 0 {
				t.Fatalf("%s signature %q: answered %d (want %d), %d events handled", how, sig, code, want, len(engine.events))
			}
		}
		code, answer := postCallback(h, right, body)
		switch code {
		case http.StatusOK:
			if len(engine.events) != 1 {
				t.Fatalf("answered 200 (%s) with %d events handled", answer, len(engine.events))
			}
			ev := engine.events[0]
			if ev.Kind != bot.EventStatus || ev.Conversation != fuzzSubmission.Conversation || ev.Status == nil ||
				ev.Status.SubmissionID != fuzzSubmission.ID || ev.Status.Reference != fuzzSubmission.Reference ||
				!strings.HasPrefix(ev.ID, "intake-cb:") || len(ev.ID) == len("intake-cb:") {
				t.Fatalf("callback %s handled as %+v", body, ev)
			}
			if !slices.Contains([]string{bot.StatusReceived, bot.StatusUnderReview, bot.StatusNeedsInfo, bot.StatusAccepted,
				bot.StatusRejected, bot.StatusImplemented}, ev.Status.Status) {
				t.Fatalf("callback %s handled with status %q", body, ev.Status.Status)
			}
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
			if len(engine.events) != 0 {
				t.Fatalf("answered %d (%s) with %d events handled", code, answer, len(engine.events))
			}
		default:
			t.Fatalf("signed callback %s answered %d (%s)", body, code, answer)
		}
	})
}

// FuzzOpen311Answer posts a submission to a GeoReport v2 server answering with the
// fuzzed status and body: Deliver never panics; a non-2xx is a *bot.SendError with that
// code, classified as every intake's (429 rate-limited, 400 and 5xx retried, other 4xx
// refused), its detail at most 500 bytes; a 2xx is a received receipt or a refusal
// naming it. A filed request's id, whatever its text, comes back as the receipt's.
func FuzzOpen311Answer(f *testing.F) {
	f.Add(uint16(201), []byte(`[{"service_request_id":"638344","service_notice":"","account_id":null}]`), "638344")
	f.Add(uint16(201), []byte(`{"service_request_id": 638344}`), "HN-2026-000042")
	f.Add(uint16(200), []byte(`[{"token":"12345"}]`), "")
	f.Add(uint16(200), []byte(`[{"code":400,"description":"no such service"}]`), "x")
	f.Add(uint16(400), []byte(`[{"code":400,"description":"General Service Error: CRM is down"}]`), "")
	f.Add(uint16(400), []byte(`[{"code":"E17","description":"duplicate"}]`), "")
	f.Add(uint16(422), []byte(`[{"code":422,"description":"lat out of bounds"},{"code":422,"description":"email invalid"}]`), "")
	f.Add(uint16(403), []byte(`[{"code":403,"description":"Invalid api_key"}]`), "")
	f.Add(uint16(503), []byte("Service Unavailable\n"), "")
	f.Add(uint16(204), []byte{}, "")
	f.Add(uint16(201), []byte(`OK`), "\u00e9\x00")
	srv := &open311Answers{services: readOpen311(f, "services.json"), definition: readOpen311(f, "definition-sangkien.json")}
	c, err := intake.NewOpen311Client(intake.Open311Config{
		URL: "http://open311.test/v2", APIKey: testAPIKey, Programs: testPrograms, DefaultAddress: "Hà Nội",
		HTTP: &http.Client{Transport: srv}, PollInterval: time.Millisecond, PollTimeout: 5 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return fuzzNow },
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte, id string) {
		code := 200 + int(status)%400
		srv.status, srv.body = code, body
		r, err := c.Deliver(context.Background(), submission("s-1"))
		var se *bot.SendError
		switch {
		case code >= 300:
			want := bot.Permanent
			switch {
			case code == 429:
				want = bot.RateLimited
			case code == 400 || code == 408 || code >= 500:
				want = bot.Retryable
			}
			if !errors.As(err, &se) || se.Code != code || se.Failure != want || r != (bot.Receipt{}) {
				t.Fatalf("answer %d %q: Deliver = %+v, %v; want a %s failure", code, body, r, err, want)
			}
		case err == nil:
			if r.Status != bot.StatusReceived {
				t.Fatalf("answer %d %q: receipt %+v", code, body, r)
			}
		case !errors.As(err, &se) || se.Failure != bot.Permanent || se.Code != code:
			t.Fatalf("answer %d %q: Deliver = %v; want a receipt or a refusal", code, body, err)
		}
		if se != nil && len(se.Detail) > 500 {
			t.Fatalf("answer %d: detail of %d bytes", code, len(se.Detail))
		}
		if id == "" || !utf8.ValidString(id) { // JSON carries no other text
			return
		}
		filed, _ := json.Marshal([]map[string]string{{"service_request_id": id}})
		srv.status, srv.body = 201, filed
		if r, err := c.Deliver(context.Background(), submission("s-1")); err != nil || r.IntakeID != id {
			t.Fatalf("answer %s: Deliver = %+v, %v; want intake id %q", filed, r, err, id)
		}
	})
}

// postCallback posts body with the signature header sig ("" for none).
func postCallback(h http.Handler, sig string, body []byte) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/callbacks/intake", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(intake.SignatureHeader, sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

// changeHexDigit changes one hex digit of the v1 signature of "t=…,v1=<hex>", picked by
// i, to another value.
func changeHexDigit(sig string, i int) string {
	at := strings.Index(sig, "v1=") + len("v1=")
	b := []byte(sig)
	i = at + i%(len(b)-at)
	v, _ := hex.DecodeString("0" + string(b[i]))
	b[i] = "0123456789abcdef"[(v[0]+1)%16]
	return string(b)
}

// fuzzIndex holds fuzzSubmission.
type fuzzIndex struct{}

func (fuzzIndex) LookupSubmission(_ context.Context, id string) (bot.IndexedSubmission, error) {
	if id == fuzzSubmission.ID {
		return fuzzSubmission, nil
	}
	return bot.IndexedSubmission{}, bot.ErrUnknownSubmission
}

func (fuzzIndex) LookupReference(_ context.Context, ref string) (bot.IndexedSubmission, error) {
	if ref == fuzzSubmission.Reference {
		return fuzzSubmission, nil
	}
	return bot.IndexedSubmission{}, bot.ErrUnknownSubmission
}

// fuzzEngine records the events it is given; the question is only whether one got there.
type fuzzEngine struct{ events []bot.Event }

func (e *fuzzEngine) Handle(_ context.Context, ev bot.Event) (bot.Outcome, error) {
	e.events = append(e.events, ev)
	return bot.Outcome{}, nil
}

// open311Answers is a GeoReport v2 server in the client's transport, for a fuzz loop
// without sockets: the service list and definition of intaketest's testdata, and the
// set status and body for requests.json and tokens.
type open311Answers struct {
	services, definition []byte
	status               int
	body                 []byte
}

func (s *open311Answers) RoundTrip(req *http.Request) (*http.Response, error) {
	status, body := s.status, s.body
	switch p := req.URL.Path; {
	case req.Method == http.MethodGet && p == "/v2/services.json":
		status, body = 200, s.services
	case req.Method == http.MethodGet && strings.HasPrefix(p, "/v2/services/"):
		status, body = 200, s.definition
	case req.Method == http.MethodPost && p == "/v2/requests.json", req.Method == http.MethodGet && strings.HasPrefix(p, "/v2/tokens/"):
	default:
		status, body = 404, nil
	}
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
}

func readOpen311(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("intaketest", "testdata", "open311", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}
