// Package zalotest is an httptest fake of Zalo for tests of any package that talks to
// it: the OA API's consultation message endpoint (POST /v3.0/oa/message/cs) and the
// OA's information (GET /v2.0/oa/getoa), the OAuth endpoint that refreshes tokens
// (POST /v4/oa/access_token) and the ZNS endpoint of the business API (POST
// /message/template, zns.go), on one server. It records every request in order, answers scripted errors, and keeps tokens as Zalo does:
// refresh tokens are single-use, and each refresh issues a new pair that voids the old
// access token. It refuses user ids that are not numbers (-201) and, once asked to
// (RequireInteraction), users outside Zalo's interaction window (-230, -232). It also
// signs webhook bodies as Zalo does, independently of the code under test.
package zalotest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"
)

// The credentials the fake starts with.
const (
	AppID        = "1234567890123456789"
	AppSecret    = "fake-app-secret-for-tests"
	OASecret     = "fake-oa-secret-for-tests"
	AccessToken  = "access-0"
	RefreshToken = "refresh-0"
	// OAID is the id of the OA the tokens belong to, as getoa reports it.
	OAID = "4318462937412650001"
)

// ExpiresIn is the access token life the fake reports after a refresh, in seconds.
const ExpiresIn = 90000

// waitLimit bounds Wait: a guard against a hung test, not a timing assertion.
const waitLimit = 20 * time.Second

// Message is one consultation message the fake received.
type Message struct {
	UserID      string
	Text        string
	AccessToken string
	// Error is the code the fake answered (0: sent).
	Error int
}

// Refresh is one call of the OAuth endpoint.
type Refresh struct {
	AppID        string
	RefreshToken string
	GrantType    string
	SecretKey    string
	OK           bool
}

// Server is a fake Zalo.
type Server struct {
	*httptest.Server

	t         testing.TB
	mu        sync.Mutex
	changed   chan struct{}
	messages  []Message
	refreshes []Refresh
	access    map[string]bool // valid access tokens
	refresh   string          // the one valid refresh token
	issued    int
	sendErrs  []answer
	oauthErrs []answer
	// expiresAsString reports expires_in as a JSON string, as Zalo's documentation
	// shows it; false sends a number.
	expiresAsString bool
	delay           time.Duration

	// interactions are when each user last interacted with the OA (Interacted);
	// window says the consultation endpoint refuses messages outside it.
	interactions map[string]time.Time
	window       bool

	// The ZNS endpoint's state (zns.go).
	templates map[string]Template
	zns       []ZNS
	znsErrs   []answer
	clock     func() time.Time
}

type answer struct {
	status int
	body   string
}

// NewServer starts a fake closed at the end of the test. AccessToken and RefreshToken
// are valid.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:               t,
		changed:         make(chan struct{}),
		access:          map[string]bool{AccessToken: true},
		refresh:         RefreshToken,
		expiresAsString: true,
		interactions:    map[string]time.Time{},
		templates:       map[string]Template{},
		clock:           time.Now,
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// ExpireAccess makes every access token issued so far invalid: the next send with one
// is answered -216.
func (s *Server) ExpireAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access = map[string]bool{}
}

// ExpiresAsNumber makes refreshes report expires_in as a JSON number.
func (s *Server) ExpiresAsNumber() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiresAsString = false
}

// SetRefreshDelay makes the OAuth endpoint answer after d: a slow refresh that
// concurrent senders pile up behind.
func (s *Server) SetRefreshDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// FailSend makes the next send answer HTTP 200 with {"error": code, "message": msg}.
// Scripts queue up in order.
func (s *Server) FailSend(code int, msg string) {
	body, _ := json.Marshal(map[string]any{"error": code, "message": msg})
	s.FailSendHTTP(http.StatusOK, string(body))
}

// FailSendHTTP makes the next send answer status and body as they are.
func (s *Server) FailSendHTTP(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendErrs = append(s.sendErrs, answer{status, body})
}

// FailRefresh makes the next refresh answer status and body as they are; the refresh
// token stays valid.
func (s *Server) FailRefresh(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthErrs = append(s.oauthErrs, answer{status, body})
}

// Messages returns every send so far, in order, failed ones included.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Sent returns the texts delivered to one user, in order.
func (s *Server) Sent(userID string) []string {
	var out []string
	for _, m := range s.Messages() {
		if m.UserID == userID && m.Error == 0 {
			out = append(out, m.Text)
		}
	}
	return out
}

// Refreshes returns every call of the OAuth endpoint so far, in order.
func (s *Server) Refreshes() []Refresh {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refresh(nil), s.refreshes...)
}

// Wait blocks until n messages were delivered and returns every send so far. It fails
// the test if that does not happen within a generous limit.
func (s *Server) Wait(n int) []Message {
	s.t.Helper()
	s.waitDelivered(n, "messages", func() (k int) {
		for _, m := range s.messages {
			if m.Error == 0 {
				k++
			}
		}
		return k
	})
	return s.Messages()
}

// waitDelivered blocks until delivered, read under the lock, counts n, failing the test
// after a generous limit; what names the messages in the failure.
func (s *Server) waitDelivered(n int, what string, delivered func() int) {
	s.t.Helper()
	limit := time.After(waitLimit)
	for {
		s.mu.Lock()
		changed, got := s.changed, delivered()
		s.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-limit:
			s.t.Fatalf("zalotest: %d %s delivered, want %d", got, what, n)
			return
		}
	}
}

// notify wakes waiters; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v3.0/oa/message/cs":
		s.serveSend(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/v2.0/oa/getoa":
		s.serveOA(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/v4/oa/access_token":
		s.serveRefresh(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/message/template":
		s.serveZNS(w, r)
	default:
		writeJSON(w, http.StatusNotFound, `{"error":404,"message":"not found"}`)
	}
}

// serveOA answers getoa as Zalo does: the OA's information for a valid access token
// (sent in the access_token header), -216 otherwise.
func (s *Server) serveOA(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	valid := s.access[r.Header.Get("access_token")]
	s.mu.Unlock()
	if !valid {
		writeJSON(w, http.StatusOK, `{"error":-216,"message":"Access token is invalid"}`)
		return
	}
	writeJSON(w, http.StatusOK, `{"data":{"oa_id":"`+OAID+`","name":"Sáng kiến Hà Nội","description":"Góp ý, sáng kiến cho Thủ đô",`+
		`"oa_alias":"","is_verified":true,"oa_type":2,"cate_name":"Cơ quan nhà nước","num_follower":1024,`+
		`"avatar":"https://s160-ava-talk.zadn.vn/a/b/c.jpg","cover":"https://cover-talk.zadn.vn/a/b/c.jpg"},"error":0,"message":"Success"}`)
}

func (s *Server) serveSend(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Recipient struct {
			UserID string `json:"user_id"`
		} `json:"recipient"`
		Message struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Recipient.UserID == "" || req.Message.Text == "" {
		s.record(Message{UserID: req.Recipient.UserID, Text: req.Message.Text, Error: -201})
		writeJSON(w, http.StatusOK, `{"error":-201,"message":"Parameters are invalid"}`)
		return
	}
	if !digits(req.Recipient.UserID) {
		// Zalo's user ids are numbers; -201 names the field it refuses.
		s.record(Message{UserID: req.Recipient.UserID, Text: req.Message.Text, Error: -201})
		writeJSON(w, http.StatusOK, `{"error":-201,"message":"user_id is invalid!"}`)
		return
	}
	m := Message{UserID: req.Recipient.UserID, Text: req.Message.Text, AccessToken: r.Header.Get("access_token")}
	s.mu.Lock()
	var scripted *answer
	if len(s.sendErrs) > 0 {
		scripted = &s.sendErrs[0]
		s.sendErrs = s.sendErrs[1:]
	}
	valid := s.access[m.AccessToken]
	window := s.windowCode(m.UserID)
	s.mu.Unlock()
	switch {
	case scripted != nil:
		var a struct {
			Error int `json:"error"`
		}
		_ = json.Unmarshal([]byte(scripted.body), &a)
		m.Error = a.Error
		if scripted.status != http.StatusOK && m.Error == 0 {
			m.Error = scripted.status
		}
		s.record(m)
		writeJSON(w, scripted.status, scripted.body)
	case len([]rune(m.Text)) > 2000:
		m.Error = -201
		s.record(m)
		writeJSON(w, http.StatusOK, `{"error":-201,"message":"text is longer than 2000 characters"}`)
	case !valid:
		m.Error = -216
		s.record(m)
		writeJSON(w, http.StatusOK, `{"error":-216,"message":"Access token is invalid"}`)
	case window != 0:
		m.Error = window
		s.record(m)
		msg := "User has not interacted with the OA in the past 7 days"
		if window == -232 {
			msg = "User has not interacted with the OA"
		}
		writeJSON(w, http.StatusOK, fmt.Sprintf(`{"error":%d,"message":%q}`, window, msg))
	default:
		s.record(m)
		writeJSON(w, http.StatusOK, fmt.Sprintf(`{"data":{"message_id":"m%d","user_id":%q},"error":0,"message":"Success"}`,
			time.Now().UnixNano(), m.UserID))
	}
}

func (s *Server) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	s.notify()
}

func (s *Server) serveRefresh(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, `{"error":-14001,"error_name":"Invalid parameter"}`)
		return
	}
	call := Refresh{
		AppID: r.PostForm.Get("app_id"), RefreshToken: r.PostForm.Get("refresh_token"),
		GrantType: r.PostForm.Get("grant_type"), SecretKey: r.Header.Get("secret_key"),
	}
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	if len(s.oauthErrs) > 0 {
		a := s.oauthErrs[0]
		s.oauthErrs = s.oauthErrs[1:]
		s.refreshes = append(s.refreshes, call)
		writeJSON(w, a.status, a.body)
		return
	}
	switch {
	case call.AppID != AppID || call.SecretKey != AppSecret || call.GrantType != "refresh_token":
		s.refreshes = append(s.refreshes, call)
		writeJSON(w, http.StatusOK, `{"error":-14002,"error_name":"Invalid app","error_description":"app_id, secret_key or grant_type is wrong"}`)
		return
	case call.RefreshToken != s.refresh:
		s.refreshes = append(s.refreshes, call)
		writeJSON(w, http.StatusOK, `{"error":-14014,"error_name":"Invalid refresh token","error_description":"Refresh token is invalid or was used"}`)
		return
	}
	call.OK = true
	s.refreshes = append(s.refreshes, call)
	s.issued++
	access, refresh := fmt.Sprintf("access-%d", s.issued), fmt.Sprintf("refresh-%d", s.issued)
	// A new pair voids the old one: the refresh token is single-use, and the access
	// token issued with it stops working too (answered -216).
	s.access = map[string]bool{access: true}
	s.refresh = refresh
	expires := fmt.Sprint(ExpiresIn)
	if s.expiresAsString {
		expires = `"` + expires + `"`
	}
	writeJSON(w, http.StatusOK, fmt.Sprintf(`{"access_token":%q,"refresh_token":%q,"expires_in":%s}`, access, refresh, expires))
}

// Sign is the X-ZEvent-Signature Zalo sends with body: "mac=" and the hex SHA-256 of the
// app id, the body, the body's timestamp field and the OA secret key.
func Sign(appID string, body []byte, oaSecret string) string {
	var head struct {
		Timestamp json.RawMessage `json:"timestamp"`
	}
	_ = json.Unmarshal(body, &head)
	ts := strings.Trim(string(head.Timestamp), `"`)
	sum := sha256.Sum256([]byte(appID + string(body) + ts + oaSecret))
	return "mac=" + hex.EncodeToString(sum[:])
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// Window is how long after a user's last interaction Zalo takes consultation messages
// for them.
const Window = 7 * 24 * time.Hour

// RequireInteraction makes the consultation endpoint as strict about the interaction
// window as Zalo: a message to a user who never interacted with the OA (Interacted) is
// refused -232, and one to a user whose last interaction is Window old by the server's
// clock (SetClock) is refused -230. Without it the fake lets every message through, for
// tests that are not about the window.
func (s *Server) RequireInteraction() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window = true
}

// Interacted records that userID interacted with the OA at at (wrote, pressed a
// button, followed): what the webhook events a test sends tell the gateway.
func (s *Server) Interacted(userID string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at.After(s.interactions[userID]) {
		s.interactions[userID] = at
	}
}

// windowCode is the code Zalo refuses a consultation message to userID with for the
// interaction window, or 0; s.mu must be held.
func (s *Server) windowCode(userID string) int {
	if !s.window {
		return 0
	}
	last, ok := s.interactions[userID]
	switch {
	case !ok:
		return -232
	case s.clock().Sub(last) >= Window:
		return -230
	}
	return 0
}
