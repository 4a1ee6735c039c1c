// Package telegramtest is an httptest fake of the Telegram Bot API for tests of any
// package that talks to Telegram: it serves /bot<token>/<method> for the methods the
// gateway uses, records every request in order, answers scripted failures, and serves
// file downloads at /file/bot<token>/<path>.
//
// It refuses what Telegram refuses, with Telegram's descriptions: a sendMessage,
// sendChatAction or editMessageReplyMarkup without chat_id ("Bad Request: chat_id is
// empty") or with a chat_id naming no chat, such as 0 ("Bad Request: chat not found"),
// and a text that is empty ("Bad Request: message text is empty") or longer than
// MaxText characters ("Bad Request: message is too long"). Refused requests are
// recorded like the others.
//
// WebhookAnswer runs the method a bot names in its answer to a webhook delivery, as
// Telegram does: a test that posts updates hands it each answer.
//
// HoldChat holds one chat's calls until released, and GarbleChat answers one chat's
// calls with a body that is no Bot API answer, while the other chats are answered as
// usual: a slow or broken API for one chat.
//
// LimitSends makes it count sendMessage as Telegram counts bulk notifications, and
// answer 429 with retry_after, in Telegram's shape, to a send beyond the limit;
// allow_paid_broadcast raises a send's limit to PaidLimit. The fake takes
// allow_paid_broadcast only on the methods that have it (sendMessage, of those it
// serves) and refuses it elsewhere, where the Bot API would ignore it: a test then
// sees the parameter go where it buys nothing.
package telegramtest

import (
	"fmt"
	"io"
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

	json "github.com/go-json-experiment/json/v1"
)

// Token is the bot token the fake accepts unless Server.Token is changed before use.
const Token = "123456789:AAE-fake_TOKEN-for-tests-0123456789abc"

// Username is the bot's username getMe reports.
const Username = "sangkien_test_bot"

// waitLimit bounds Wait: a guard against a hung test, not a timing assertion.
const waitLimit = 10 * time.Second

// Request is one call the fake received.
type Request struct {
	Method string
	// Params are the form or JSON fields; JSON values that are not strings keep their
	// JSON text (reply_markup stays a JSON document, as in a form request).
	Params map[string]string
	// At is when the fake received the call.
	At time.Time
	// Limited is set when the call was answered 429 by the limit of LimitSends, and
	// RetryAfter is then the retry_after of that answer, in seconds.
	Limited    bool
	RetryAfter int
	// Webhook is set on a call the bot named in its answer to a webhook delivery
	// (WebhookAnswer), not one it made itself.
	Webhook bool
}

// Server is a fake Bot API.
type Server struct {
	*httptest.Server
	// Token is the token the fake accepts; requests with another answer 401.
	Token string
	// OnCall, when set before use, is told of every call as it is recorded, before it
	// is answered, with the HTTP request that made it: what a test standing before the
	// fake would otherwise parse again.
	OnCall func(r *http.Request, call Request)
	// Keep, when above 0 and set before use, bounds the calls kept for Requests,
	// Calls and Wait to the newest Keep: a benchmark's hundreds of thousands of calls
	// would otherwise fill the test's heap.
	Keep int

	t       testing.TB
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every recorded request or queued update
	reqs    []Request
	scripts map[string][]answer
	delay   time.Duration
	files   map[string]file // by file_id
	updates []json.RawMessage
	nextMsg int
	limits  [2]window                // LimitSends': the free sends, then the paid ones
	held    map[string]chan struct{} // HoldChat's chats: closed on release
	garbled map[string]string        // GarbleChat's chats: the body they are answered
}

// window counts the sends of the last period against a limit of n; n 0: no limit.
type window struct {
	n      int
	period time.Duration
	sent   []time.Time // in order, none older than period
}

// take counts one send at now and returns 0, or, when the window is full, counts
// nothing and returns how long until a send is taken again.
func (w *window) take(now time.Time) time.Duration {
	if w.n <= 0 {
		return 0
	}
	keep := 0
	for keep < len(w.sent) && now.Sub(w.sent[keep]) >= w.period {
		keep++
	}
	w.sent = w.sent[keep:]
	if len(w.sent) >= w.n {
		return w.sent[0].Add(w.period).Sub(now)
	}
	w.sent = append(w.sent, now)
	return 0
}

type answer struct {
	status int
	body   string
}

type file struct {
	path string
	data []byte
}

// NewServer starts a fake closed at the end of the test.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		Token:   Token,
		t:       t,
		changed: make(chan struct{}),
		scripts: map[string][]answer{},
		files:   map[string]file{},
		held:    map[string]chan struct{}{},
		garbled: map[string]string{},
		nextMsg: 100,
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Endpoint is the API endpoint in go-telegram-bot-api's format.
func (s *Server) Endpoint() string { return s.URL + "/bot%s/%s" }

// Fail makes the next call of method answer status and body.
func (s *Server) Fail(method string, status int, body string) { s.Script(method, 1, status, body) }

// Script makes the next n calls of method answer status and body; later calls answer
// normally again. Scripts for one method queue up in order.
func (s *Server) Script(method string, n, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.scripts[method] = append(s.scripts[method], answer{status, body})
	}
}

// SetDelay makes every answer wait d (or until the client gives up): a slow API.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// HoldChat makes every call naming chatID (its chat_id) wait, once recorded, until
// release is called or the client gives up: a chat whose sends hang, as when the API
// is slow for one chat. Calls for other chats are answered as usual meanwhile.
func (s *Server) HoldChat(chatID string) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	s.held[chatID] = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.held, chatID)
			close(ch)
		})
	}
}

// GarbleChat makes every call naming chatID answer 200 with body, which is not a Bot
// API answer (a proxy's error page, half of a cut answer): the client cannot read it.
func (s *Server) GarbleChat(chatID, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.garbled[chatID] = body
}

// PaidLimit is how many sends with allow_paid_broadcast Telegram takes per second.
const PaidLimit = 1000

// LimitSends makes sendMessage take at most n sends in any period, as Telegram does
// for a bot's notifications to many chats (about 30 a second), and PaidLimit per
// period of those with allow_paid_broadcast, counted apart. A send beyond the limit
// is answered 429 with retry_after, the whole seconds until the window has room
// (at least 1), and counts nothing. n 0 lifts the limits.
func (s *Server) LimitSends(n int, period time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	paid := 0
	if n > 0 {
		paid = PaidLimit
	}
	s.limits = [2]window{{n: n, period: period}, {n: paid, period: period}}
}

// AddFile makes getFile know fileID, and serves data at its download path.
func (s *Server) AddFile(fileID, path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[fileID] = file{path: path, data: data}
}

// QueueUpdate adds updates (raw Update JSON with their update_id) for getUpdates.
func (s *Server) QueueUpdate(updates ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range updates {
		s.updates = append(s.updates, json.RawMessage(u))
	}
	s.notify()
}

// Requests returns every call so far (the newest Keep), in order; getMe included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Calls returns the calls of one method so far, in order.
func (s *Server) Calls(method string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// Wait blocks until method was called at least n times and returns those calls. It
// fails the test if that does not happen within a generous limit. Call it from the
// goroutine of the test that made the server.
func (s *Server) Wait(method string, n int) []Request {
	s.t.Helper()
	limit := time.After(waitLimit)
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if calls := s.Calls(method); len(calls) >= n {
			return calls
		}
		select {
		case <-changed:
		case <-limit:
			s.t.Fatalf("telegramtest: %s called %d times, want %d", method, len(s.Calls(method)), n)
			return nil
		}
	}
}

// notify wakes waiters; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		s.serveFile(w, rest)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		writeJSON(w, http.StatusNotFound, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	params, err := ReadParams(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: `+err.Error()+`"}`)
		return
	}
	s.call(w, r, token, method, params, false)
}

// call records and answers one call, made with token; webhook: named in the answer to
// a webhook delivery (WebhookAnswer).
func (s *Server) call(w http.ResponseWriter, r *http.Request, token, method string, params map[string]string, webhook bool) {
	s.mu.Lock()
	req := Request{Method: method, Params: params, At: time.Now(), Webhook: webhook}
	delay := s.delay
	var scripted *answer
	if q := s.scripts[method]; len(q) > 0 {
		scripted = &q[0]
		s.scripts[method] = q[1:]
	}
	if scripted == nil && token == s.Token && method == "sendMessage" {
		lim := &s.limits[0]
		if params["allow_paid_broadcast"] == "true" {
			lim = &s.limits[1]
		}
		if wait := lim.take(req.At); wait > 0 {
			req.Limited, req.RetryAfter = true, retryAfter(wait)
			scripted = tooManyRequests(req.RetryAfter)
		}
	}
	held := s.held[params["chat_id"]]
	garbled, garble := s.garbled[params["chat_id"]]
	s.reqs = append(s.reqs, req)
	if s.Keep > 0 && len(s.reqs) >= 2*s.Keep {
		s.reqs = append(s.reqs[:0:0], s.reqs[len(s.reqs)-s.Keep:]...)
	}
	s.notify()
	s.mu.Unlock()
	if s.OnCall != nil {
		s.OnCall(r, req)
	}

	if held != nil {
		select {
		case <-held:
		case <-r.Context().Done():
			return
		}
	}
	if garble && token == s.Token {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, garbled)
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case token != s.Token:
		writeJSON(w, http.StatusUnauthorized, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
	case scripted != nil:
		writeJSON(w, scripted.status, scripted.body)
	default:
		s.answer(w, r, method, params)
	}
}

// WebhookAnswer runs the method a bot named in its answer to a webhook delivery, as
// Telegram does: a 200 answer whose body gives "method" and the method's parameters,
// as JSON, a form or multipart, is a call of the bot's own (recorded, limited, held and
// refused like one, with Request.Webhook set). A test that posts updates to a webhook
// hands every answer here, as Telegram would. An answer with no body is no call.
//
// Telegram tells the bot nothing of how such a call went; the fake returns an error
// when it was refused (or named no method), so that a test sees what Telegram would
// have dropped.
func (s *Server) WebhookAnswer(status int, header http.Header, body []byte) error {
	if status != http.StatusOK || len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	r := httptest.NewRequest(http.MethodPost, "/bot"+s.Token+"/", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", header.Get("Content-Type"))
	params, err := ReadParams(r)
	if err != nil {
		return fmt.Errorf("webhook answer %q: %w", body, err)
	}
	method := params["method"]
	if method == "" {
		return fmt.Errorf("webhook answer %q names no method", body)
	}
	delete(params, "method")
	rec := httptest.NewRecorder()
	s.call(rec, r, s.Token, method, params, true)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("webhook answer's %s refused: %d %s", method, rec.Code, rec.Body.String())
	}
	return nil
}

// WebhookResponse is WebhookAnswer of a response to a webhook POST; it reads and
// closes the body.
func (s *Server) WebhookResponse(resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	return s.WebhookAnswer(resp.StatusCode, resp.Header, body)
}

// retryAfter is a wait as Telegram gives it: whole seconds, rounded up, at least 1.
func retryAfter(wait time.Duration) int {
	return max(1, int((wait+time.Second-1)/time.Second))
}

// tooManyRequests is Telegram's answer to a send over its limit.
func tooManyRequests(after int) *answer {
	return &answer{http.StatusTooManyRequests, fmt.Sprintf(
		`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, after, after)}
}

// served are the methods the fake answers; paidMethods, those of them that take
// allow_paid_broadcast.
var (
	served      = []string{"getMe", "sendMessage", "editMessageReplyMarkup", "sendChatAction", "answerCallbackQuery", "setWebhook", "deleteWebhook", "setMyCommands", "getFile", "getUpdates"}
	paidMethods = []string{"sendMessage"}
)

// checkPaid refuses allow_paid_broadcast where the method has no such parameter, and
// a value that is not a boolean. "" when acceptable.
func checkPaid(method string, p map[string]string) string {
	v, given := p["allow_paid_broadcast"]
	switch {
	case !given || !slices.Contains(served, method):
		return "" // an unknown method is answered 404 all the same
	case !slices.Contains(paidMethods, method):
		return "allow_paid_broadcast is not a parameter of " + method
	case v != "true" && v != "false":
		return "allow_paid_broadcast must be a boolean"
	}
	return ""
}

// answer gives the normal answer of each method.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, method string, p map[string]string) {
	if refused := checkPaid(method, p); refused != "" {
		badRequest(w, refused)
		return
	}
	switch method {
	case "getMe":
		ok(w, fmt.Sprintf(`{"id":123456789,"is_bot":true,"first_name":"Sáng kiến","username":%q,"can_join_groups":false,"can_read_all_group_messages":false,"supports_inline_queries":false}`, Username))
	case "sendMessage":
		if refused := checkChat(p) + checkText(p["text"]); refused != "" {
			badRequest(w, refused)
			return
		}
		s.mu.Lock()
		s.nextMsg++
		id := s.nextMsg
		s.mu.Unlock()
		chat, _ := strconv.ParseInt(p["chat_id"], 10, 64)
		text, _ := json.Marshal(p["text"])
		ok(w, fmt.Sprintf(`{"message_id":%d,"from":{"id":123456789,"is_bot":true,"first_name":"Sáng kiến","username":%q},"chat":{"id":%d,"type":"private"},"date":%d,"text":%s}`,
			id, Username, chat, time.Now().Unix(), text))
	case "editMessageReplyMarkup":
		if refused := checkChat(p); refused != "" && p["inline_message_id"] == "" {
			badRequest(w, refused)
			return
		}
		chat, _ := strconv.ParseInt(p["chat_id"], 10, 64)
		msg, _ := strconv.Atoi(p["message_id"])
		ok(w, fmt.Sprintf(`{"message_id":%d,"chat":{"id":%d,"type":"private"},"date":%d,"text":"…"}`, msg, chat, time.Now().Unix()))
	case "sendChatAction":
		if refused := checkChat(p); refused != "" {
			badRequest(w, refused)
			return
		}
		ok(w, "true")
	case "answerCallbackQuery", "setWebhook", "deleteWebhook", "setMyCommands":
		ok(w, "true")
	case "getFile":
		s.mu.Lock()
		f, found := s.files[p["file_id"]]
		s.mu.Unlock()
		if !found {
			writeJSON(w, http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: invalid file_id"}`)
			return
		}
		ok(w, fmt.Sprintf(`{"file_id":%q,"file_unique_id":"u%s","file_size":%d,"file_path":%q}`, p["file_id"], p["file_id"], len(f.data), f.path))
	case "getUpdates":
		s.getUpdates(w, r, p)
	default:
		writeJSON(w, http.StatusNotFound, `{"ok":false,"error_code":404,"description":"Not Found: method not found"}`)
	}
}

// MaxText is the most characters sendMessage takes. Telegram counts Unicode code points
// (an emoji outside the BMP is one, though two UTF-16 code units), after entity parsing;
// with no parse mode the text is what was sent, less the spaces around it, which
// Telegram trims.
const MaxText = 4096

// checkChat refuses a chat the way Telegram does: no chat_id at all, or one that names
// no chat (0, or neither a number nor an @username). "" when the chat is acceptable.
func checkChat(p map[string]string) string {
	id, given := p["chat_id"]
	if !given || id == "" {
		return "chat_id is empty"
	}
	if strings.HasPrefix(id, "@") && len(id) > 1 {
		return ""
	}
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n == 0 {
		return "chat not found"
	}
	return ""
}

// checkText refuses a message text the way Telegram does.
func checkText(text string) string {
	text = strings.TrimSpace(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return "message text is empty"
	case n > MaxText:
		return "message is too long"
	}
	return ""
}

// badRequest answers as the Bot API does when it refuses parameters.
func badRequest(w http.ResponseWriter, description string) {
	body, _ := json.Marshal(map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + description})
	writeJSON(w, http.StatusBadRequest, string(body))
}

// getUpdates answers the queued updates from offset on, waiting up to the request's
// timeout for one to be queued, as Telegram's long polling does.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p map[string]string) {
	offset, _ := strconv.Atoi(p["offset"])
	timeout, _ := strconv.Atoi(p["timeout"])
	limit := time.After(time.Duration(timeout) * time.Second)
	for {
		s.mu.Lock()
		var out []json.RawMessage
		for _, u := range s.updates {
			var head struct {
				UpdateID int `json:"update_id"`
			}
			if json.Unmarshal(u, &head) == nil && head.UpdateID >= offset {
				out = append(out, u)
			}
		}
		changed := s.changed
		s.mu.Unlock()
		if len(out) > 0 || timeout <= 0 {
			body, _ := json.Marshal(out)
			if out == nil {
				body = []byte("[]")
			}
			ok(w, string(body))
			return
		}
		select {
		case <-changed:
		case <-limit:
			timeout = 0
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) serveFile(w http.ResponseWriter, rest string) {
	token, path, _ := strings.Cut(rest, "/")
	if token != s.Token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.files {
		if f.path == path {
			_, _ = w.Write(f.data)
			return
		}
	}
	http.NotFound(w, nil)
}

// ReadParams reads a Bot API request's parameters, from a form, multipart or JSON body,
// into flat parameters as Request.Params holds them: what a test that stands before the
// fake reads of a request. The body is consumed.
func ReadParams(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var m map[string]json.RawMessage
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		if len(body) > 0 {
			if err := json.Unmarshal(body, &m); err != nil {
				return nil, fmt.Errorf("can't parse JSON: %w", err)
			}
		}
		for k, v := range m {
			var s string
			if json.Unmarshal(v, &s) == nil {
				out[k] = s
			} else {
				out[k] = string(v)
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, err
		}
		flatten(out, r.MultipartForm.Value)
	default:
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		flatten(out, r.PostForm)
		flatten(out, r.URL.Query())
	}
	return out, nil
}

func flatten(out map[string]string, v url.Values) {
	for k, vs := range v {
		if len(vs) > 0 {
			out[k] = vs[0]
		}
	}
}

func ok(w http.ResponseWriter, result string) {
	writeJSON(w, http.StatusOK, `{"ok":true,"result":`+result+`}`)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
