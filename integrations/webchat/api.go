package webchat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/clientaddr"
	"github.com/sangkien/sangkien/locales"
)

// handleTimeout bounds running one event inside a request; the browser sends the
// message again with its id when it gets no 202.
const handleTimeout = 10 * time.Second

// conversationInput is the optional body of POST /webchat/api/conversations.
type conversationInput struct {
	Lang string `json:"lang"`
}

// conversationAnswer is what opening (or renewing) a conversation answers.
type conversationAnswer struct {
	Conversation string    `json:"conversation"`
	Token        string    `json:"token"`
	Expires      time.Time `json:"expires"`
}

// openConversation opens a conversation and answers 201 with its token; the bot's
// greeting is its first reply. A browser that sends the still valid token of its
// conversation gets 200 and a fresh token for the same conversation instead; an
// invalid or expired one is ignored (that conversation cannot be read any more).
func (s *Server) openConversation(w http.ResponseWriter, r *http.Request) {
	var in conversationInput
	if status, msg := readJSON(w, r, &in, true); status != 0 {
		writeError(w, status, msg)
		return
	}
	if c, err := s.tokens.verify(r.Context(), bearer(r)); err == nil {
		lang := c.Lang
		if in.Lang != "" {
			lang = locales.Normalize(in.Lang)
		}
		tok, exp, err := s.tokens.issue(r.Context(), c.Conversation, lang)
		if err != nil {
			s.unavailable(w, "renew token", err)
			return
		}
		writeJSON(w, http.StatusOK, conversationAnswer{Conversation: c.Conversation, Token: tok, Expires: exp})
		return
	} else if !errors.Is(err, errBadToken) {
		s.unavailable(w, "token", err)
		return
	}
	ok, wait, err := s.cfg.Cap.Open(r.Context(), s.clientAddr(r))
	if err != nil {
		// A citizen is not turned away because the count failed.
		s.log.Warn("conversation cap not counted; the conversation opens", "err", err)
	}
	if !ok {
		s.log.Info("new conversation refused: the address reached its cap")
		tooMany(w, wait)
		return
	}
	lang := locales.Normalize(in.Lang)
	if in.Lang == "" {
		lang = locales.Normalize(r.Header.Get("Accept-Language"))
	}
	conv := newConversationID()
	tok, exp, err := s.tokens.issue(r.Context(), conv, lang)
	if err != nil {
		s.unavailable(w, "token", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), handleTimeout)
	defer cancel()
	ev := bot.Event{ID: conv + "/start", Conversation: bot.ConversationRef{Channel: bot.Web, ID: conv},
		Lang: lang, Kind: bot.EventCommand, Command: "start", At: s.cfg.Now()}
	if _, err := s.cfg.Handler.Handle(ctx, ev); err != nil {
		s.unavailable(w, "open conversation", err)
		return
	}
	writeJSON(w, http.StatusCreated, conversationAnswer{Conversation: conv, Token: tok, Expires: exp})
}

// messageInput is the body of POST /webchat/api/messages: one of text, payload (a
// pressed choice) or location, and optionally the browser's own id for the message,
// the same on every retry, so a message sent twice is run once.
type messageInput struct {
	ID       string         `json:"id"`
	Text     string         `json:"text"`
	Payload  string         `json:"payload"`
	Location *locationInput `json:"location"`
}

type locationInput struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// postMessage runs one message of the citizen as an engine event and answers 202: the
// replies come through the event stream.
func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authorize(w, r)
	if !ok {
		return
	}
	var in messageInput
	if status, msg := readJSON(w, r, &in, false); status != 0 {
		writeError(w, status, msg)
		return
	}
	ev, err := s.event(c, in)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !s.within(w, r, "msg", c.Conversation, MessagesPerMinute, time.Minute) ||
		!s.within(w, r, "addr", s.clientAddr(r), AddressMessagesPerMin, time.Minute) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), handleTimeout)
	defer cancel()
	out, err := s.cfg.Handler.Handle(ctx, ev)
	if err != nil {
		s.unavailable(w, "message", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": strings.TrimPrefix(ev.ID, c.Conversation+"/"), "duplicate": out.Duplicate})
}

// event makes the engine event of a message, or says what is wrong with it.
func (s *Server) event(c claims, in messageInput) (bot.Event, error) {
	ev := bot.Event{Conversation: bot.ConversationRef{Channel: bot.Web, ID: c.Conversation}, Lang: c.Lang, At: s.cfg.Now()}
	id := in.ID
	if id == "" {
		id = "m" + newConversationID()
	} else if !validID(id) {
		return ev, errors.New("id: want 1 to 64 letters, digits, - or _")
	}
	ev.ID = c.Conversation + "/" + id
	n := 0
	if in.Text != "" {
		n++
	}
	if in.Payload != "" {
		n++
	}
	if in.Location != nil {
		n++
	}
	switch {
	case n != 1:
		return ev, errors.New("send exactly one of text, payload and location")
	case in.Text != "":
		if !utf8.ValidString(in.Text) || utf8.RuneCountInString(in.Text) > MaxText {
			return ev, fmt.Errorf("text: want valid UTF-8 of at most %d characters", MaxText)
		}
		ev.Kind, ev.Text = bot.EventText, in.Text
	case in.Payload != "":
		if len(in.Payload) > MaxPayload {
			return ev, fmt.Errorf("payload: at most %d bytes", MaxPayload)
		}
		ev.Kind, ev.Payload = bot.EventButton, in.Payload
	default:
		l := in.Location
		if math.IsNaN(l.Lat) || math.IsNaN(l.Lon) || l.Lat < -90 || l.Lat > 90 || l.Lon < -180 || l.Lon > 180 {
			return ev, errors.New("location: want lat in [-90, 90] and lon in [-180, 180]")
		}
		ev.Kind, ev.Location = bot.EventLocation, &bot.Location{Lat: l.Lat, Lon: l.Lon}
	}
	return ev, nil
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// authorize reads the bearer token (or, for the event stream, ?token=: EventSource
// cannot set headers) and answers 401 when there is none or it is wrong or expired.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (claims, bool) {
	tok := bearer(r)
	if tok == "" && r.Method == http.MethodGet {
		tok = r.URL.Query().Get("token")
	}
	c, err := s.tokens.verify(r.Context(), tok)
	if err != nil && !errors.Is(err, errBadToken) {
		s.unavailable(w, "token", err)
		return claims{}, false
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="webchat"`)
		writeError(w, http.StatusUnauthorized, "a valid token is required: open a conversation first")
		return claims{}, false
	}
	return c, true
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// within counts one request against a limit and answers 429 (or 503) when it is over.
// within counts one request of subject (a conversation, an address) against the limit
// of kind, answering 429 over it. The subject is hashed into the limiter's key, so that
// neither Redis nor an error's text holds an address or a whole conversation id.
func (s *Server) within(w http.ResponseWriter, r *http.Request, kind, subject string, limit int, window time.Duration) bool {
	sum := sha256.Sum256([]byte(subject))
	wait, err := s.cfg.Limiter.Reserve(r.Context(), "webchat:"+kind+":"+hex.EncodeToString(sum[:12]), limit, window)
	if err != nil {
		s.unavailable(w, "rate limit", err)
		return false
	}
	if wait > 0 {
		tooMany(w, wait)
		return false
	}
	return true
}

// readJSON reads a JSON body strictly, as the console's API does: 415 for a body that
// is not JSON, 413 over MaxBody, 400 for unknown fields or anything after the object.
// An empty body is the zero input when empty is allowed.
func readJSON(w http.ResponseWriter, r *http.Request, v any, empty bool) (int, string) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if empty && r.ContentLength == 0 && ct == "" {
		return 0, ""
	}
	if ct != "application/json" {
		return http.StatusUnsupportedMediaType, "send application/json"
	}
	// The body is read whole first: the JSON decoder reports a reader's error as a
	// syntax error, which would hide the size limit's.
	body, err := io.ReadAll(r.Body)
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge, "the body is too large"
	}
	if err != nil {
		return http.StatusBadRequest, "the body could not be read"
	}
	if len(bytes.TrimSpace(body)) == 0 && empty {
		return 0, ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, e := dec.Token(); e != io.EOF {
			err = errors.New("more after the object")
		}
	}
	if err != nil {
		return http.StatusBadRequest, "the body is not the JSON expected: " + err.Error()
	}
	return 0, ""
}

// clientAddr is the address limits count on: the client's (behind a trusted proxy, the
// one it forwarded), an IPv6 address by its /64 (the block one subscriber usually holds).
func (s *Server) clientAddr(r *http.Request) string { return clientaddr.Key(s.cfg.Proxies.Addr(r)) }

func (s *Server) unavailable(w http.ResponseWriter, what string, err error) {
	s.log.Error(what, "err", err)
	w.Header().Set("Retry-After", "2")
	writeError(w, http.StatusServiceUnavailable, "unavailable, try again")
}

func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeError(w, http.StatusTooManyRequests, "too many requests, slow down")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
