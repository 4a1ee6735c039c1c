package intaketest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Open311Error is one element of a GeoReport v2 error array.
type Open311Error struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

// Open311Answer scripts one answer to a POST requests.json.
type Open311Answer struct {
	// Status is the HTTP status; 0 means the normal success.
	Status int
	// Errors is answered as the GeoReport error array; Body, when set, replaces it.
	Errors     []Open311Error
	Body       string
	RetryAfter string
	Delay      time.Duration
}

// Open311Server is a fake GeoReport v2 server. It checks the form a client posts
// (api_key, service_code, description length, a location) and answers as the
// specification says: a service_request_id, or a token when AnswerWithTokens was called.
type Open311Server struct {
	Server *httptest.Server
	apiKey string

	mu         sync.Mutex
	script     []Open311Answer
	services   []string
	dedupe     bool
	tokenAfter int // polls before a token resolves; -1: never
	useTokens  bool
	posts      int
	requests   []url.Values
	ids        map[string]string // attribute[submission_id] → service_request_id
	tokens     map[string]*token
}

type token struct {
	id    string
	polls int
}

// NewOpen311Server starts a fake GeoReport v2 server that accepts apiKey; it stops when
// the test ends. Its URL is the client's base URL.
func NewOpen311Server(t testing.TB, apiKey string) *Open311Server {
	t.Helper()
	s := &Open311Server{apiKey: apiKey, ids: map[string]string{}, tokens: map[string]*token{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /requests.json", s.post)
	mux.HandleFunc("GET /tokens/{file}", s.token)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Server.Close)
	return s
}

// URL is the server's base URL.
func (s *Open311Server) URL() string { return s.Server.URL }

// Script queues answers for the next POSTs that pass the checks.
func (s *Open311Server) Script(answers ...Open311Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, answers...)
}

// Services restricts the accepted service codes (any code when never called).
func (s *Open311Server) Services(codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services = codes
}

// DedupeOnSubmissionID makes the server keep one request per attribute[submission_id],
// as docs/intake.md recommends to Open311 servers; without it a repeated POST files a
// second request, as most servers do.
func (s *Open311Server) DedupeOnSubmissionID() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dedupe = true
}

// AnswerWithTokens answers later POSTs with a token that resolves to the request's id
// on poll number polls+1; polls < 0 never resolves.
func (s *Open311Server) AnswerWithTokens(polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.useTokens, s.tokenAfter = true, polls
}

// Requests are the forms of the requests filed, in order.
func (s *Open311Server) Requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Posts counts every POST received, refused ones included.
func (s *Open311Server) Posts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts
}

// Polls counts the polls of a token.
func (s *Open311Server) Polls(tok string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tok]; ok {
		return t.polls
	}
	return 0
}

func (s *Open311Server) post(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.posts++
	s.mu.Unlock()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		writeErrors(w, http.StatusBadRequest, "form-encoded body required")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeErrors(w, http.StatusBadRequest, "unreadable form")
		return
	}
	f := r.PostForm
	if f.Get("api_key") != s.apiKey {
		writeErrors(w, http.StatusForbidden, "Invalid api_key")
		return
	}
	if msg := s.checkForm(f); msg != "" {
		writeErrors(w, http.StatusBadRequest, msg)
		return
	}
	if a, ok := s.next(); ok {
		s.play(w, r, a)
		return
	}
	s.file(w, f)
}

// checkForm returns why the form is refused, "" when it is fine.
func (s *Open311Server) checkForm(f url.Values) string {
	code := f.Get("service_code")
	s.mu.Lock()
	services := s.services
	s.mu.Unlock()
	switch {
	case code == "":
		return "service_code is required"
	case services != nil && !slices.Contains(services, code):
		return "service_code " + code + " not found"
	case utf8.RuneCountInString(f.Get("description")) > 4000:
		return "description longer than 4000 characters"
	case f.Get("lat") == "" && f.Get("long") == "" && f.Get("address_string") == "" && f.Get("address_id") == "":
		return "a location is required: lat and long, address_string or address_id"
	case (f.Get("lat") == "") != (f.Get("long") == ""):
		return "lat and long go together"
	}
	for _, k := range []string{"lat", "long"} {
		if v := f.Get(k); v != "" {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return k + " is not a number"
			}
		}
	}
	return ""
}

func (s *Open311Server) next() (Open311Answer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.script) == 0 {
		return Open311Answer{}, false
	}
	a := s.script[0]
	s.script = s.script[1:]
	return a, true
}

// play answers a scripted answer; a scripted success files the request as usual.
func (s *Open311Server) play(w http.ResponseWriter, r *http.Request, a Open311Answer) {
	if a.Delay > 0 {
		t := time.NewTimer(a.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if a.Status == 0 || (a.Status >= 200 && a.Status < 300 && a.Body == "") {
		s.file(w, r.PostForm)
		return
	}
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	body := a.Body
	if body == "" {
		errs := a.Errors
		if errs == nil {
			errs = []Open311Error{{Code: a.Status, Description: http.StatusText(a.Status)}}
		}
		b, _ := json.Marshal(errs)
		body = string(b)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_, _ = w.Write([]byte(body))
}

// file keeps the request and answers its id or a token.
func (s *Open311Server) file(w http.ResponseWriter, f url.Values) {
	s.mu.Lock()
	subID := f.Get("attribute[submission_id]")
	id, dup := s.ids[subID]
	if !dup || !s.dedupe || subID == "" {
		s.requests = append(s.requests, f)
		id = strconv.Itoa(1000 + len(s.requests))
		s.ids[subID] = id
	}
	var answer map[string]string
	if s.useTokens {
		tok := fmt.Sprintf("tok-%s", id)
		s.tokens[tok] = &token{id: id}
		answer = map[string]string{"token": tok}
	} else {
		answer = map[string]string{"service_request_id": id, "service_notice": ""}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, []map[string]string{answer})
}

// token answers a poll of tokens/{token}.json.
func (s *Open311Server) token(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	t, known := s.tokens[tok]
	var answer map[string]string
	if known {
		t.polls++
		answer = map[string]string{"token": tok}
		if s.tokenAfter >= 0 && t.polls > s.tokenAfter {
			answer["service_request_id"] = t.id
		}
	}
	s.mu.Unlock()
	if !ok || !known {
		writeErrors(w, http.StatusNotFound, "token not found")
		return
	}
	writeJSON(w, http.StatusOK, []map[string]string{answer})
}

func writeErrors(w http.ResponseWriter, status int, desc string) {
	writeJSON(w, status, []Open311Error{{Code: status, Description: desc}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
