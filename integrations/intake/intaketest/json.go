package intaketest

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/intake"
)

// Answer scripts one answer of a fake server.
type Answer struct {
	// Status is the HTTP status; 0 means the normal success.
	Status int
	// Body replaces the default body of the answer.
	Body string
	// RetryAfter is sent as the Retry-After header when set.
	RetryAfter string
	// Delay holds the answer this long, or until the client gives up.
	Delay time.Duration
	// Keep stores the submission even though the answer is a failure: the server took it
	// and the answer was lost on the way back.
	Keep bool
}

// Request is one request a JSONServer received, with the status it answered.
type Request struct {
	Header http.Header
	Body   []byte
	Status int
}

// JSONServer is a fake intake for the signed JSON adapter. It keeps one submission per
// Idempotency-Key and answers a repeated key with the first receipt, as the documented
// contract asks of a real intake.
type JSONServer struct {
	Server *httptest.Server
	secret []byte

	mu       sync.Mutex
	script   []Answer
	broken   *Answer
	requests []Request
	keys     map[string]string // Idempotency-Key → intake id
	subs     []bot.Submission
}

// NewJSONServer starts a fake intake that checks signatures made with secret; it stops
// when the test ends.
func NewJSONServer(t testing.TB, secret string) *JSONServer {
	t.Helper()
	s := &JSONServer{secret: []byte(secret), keys: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Server.Close)
	return s
}

// URL is where to post submissions.
func (s *JSONServer) URL() string { return s.Server.URL + "/submissions" }

// Script queues answers for the next requests that pass the checks; once they are used
// up the server answers normally (or as Break says).
func (s *JSONServer) Script(answers ...Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, answers...)
}

// Break answers a to every request (after the scripted ones) until Fix.
func (s *JSONServer) Break(a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken = &a
}

// Fix ends Break.
func (s *JSONServer) Fix() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken = nil
}

// Submissions are the submissions kept, one per Idempotency-Key, in arrival order.
func (s *JSONServer) Submissions() []bot.Submission {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bot.Submission(nil), s.subs...)
}

// Requests are all requests received, refused ones included.
func (s *JSONServer) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Refused counts the requests answered 401 for their signature.
func (s *JSONServer) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Status == http.StatusUnauthorized {
			n++
		}
	}
	return n
}

func (s *JSONServer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	status, answer := s.check(r, body)
	if status == 0 {
		status, answer = s.answer(r, body)
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Header: r.Header.Clone(), Body: body, Status: status})
	s.mu.Unlock()
	if answer.RetryAfter != "" {
		w.Header().Set("Retry-After", answer.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer.Body)
}

// check refuses a request that breaks the documented contract; 0 means it passes.
func (s *JSONServer) check(r *http.Request, body []byte) (int, Answer) {
	refuse := func(status int, msg string) (int, Answer) {
		return status, Answer{Body: errorBody(msg)}
	}
	if r.Method != http.MethodPost {
		return refuse(http.StatusMethodNotAllowed, "POST only")
	}
	if err := verify(s.secret, r.Header.Get(intake.SignatureHeader), body); err != nil {
		return refuse(http.StatusUnauthorized, err.Error())
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return refuse(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	sub, err := intake.DecodeSubmission(body)
	if err != nil {
		return refuse(http.StatusBadRequest, err.Error())
	}
	if key := r.Header.Get("Idempotency-Key"); key == "" || key != sub.ID {
		return refuse(http.StatusBadRequest, "Idempotency-Key must be the submission id")
	}
	return 0, Answer{}
}

// answer plays the next scripted answer, or keeps the submission and answers its receipt.
func (s *JSONServer) answer(r *http.Request, body []byte) (int, Answer) {
	s.mu.Lock()
	var a Answer
	switch {
	case len(s.script) > 0:
		a, s.script = s.script[0], s.script[1:]
	case s.broken != nil:
		a = *s.broken
	}
	s.mu.Unlock()
	if a.Delay > 0 {
		t := time.NewTimer(a.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	sub, _ := intake.DecodeSubmission(body) // check decoded it already
	failed := a.Status != 0 && (a.Status < 200 || a.Status > 299)
	var id string
	if !failed || a.Keep {
		id = s.keep(sub)
	}
	if failed {
		if a.Body == "" {
			a.Body = errorBody(http.StatusText(a.Status))
		}
		return a.Status, a
	}
	if a.Body == "" {
		b, _ := json.Marshal(map[string]string{"intake_id": id, "status": bot.StatusReceived})
		a.Body = string(b)
	}
	if a.Status == 0 {
		a.Status = http.StatusOK
	}
	return a.Status, a
}

// keep stores sub once per id and returns its intake id.
func (s *JSONServer) keep(sub bot.Submission) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.keys[sub.ID]; ok {
		return id
	}
	id := fmt.Sprintf("HN-%06d", len(s.subs)+1)
	s.keys[sub.ID] = id
	s.subs = append(s.subs, sub)
	return id
}

func errorBody(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}
