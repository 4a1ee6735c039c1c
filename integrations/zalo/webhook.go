package zalo

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sangkien/sangkien/integrations/webhook"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// SignatureHeader carries Zalo's signature of every webhook delivery.
const SignatureHeader = "X-ZEvent-Signature"

// Defaults of Config.
const (
	DefaultMaxBody = 1 << 20
	// DefaultDeadline leaves half a second of Zalo's 2 seconds for the network.
	DefaultDeadline = 1500 * time.Millisecond
	// DefaultMaxAge is how old an event's timestamp may be. Zalo retries a failed
	// delivery for about an hour; anything much older is a replay of a captured body.
	DefaultMaxAge = 2 * time.Hour
)

// Handler runs one event; *bot.Engine satisfies it. When Handle returns nil the event's
// effects are stored.
type Handler interface {
	Handle(ctx context.Context, ev bot.Event) (bot.Outcome, error)
}

var _ Handler = (*bot.Engine)(nil)

// Config configures a Webhook.
type Config struct {
	// AppID is the Zalo app's id (ZALO_APP_ID); it is part of the signed text. Required.
	AppID string
	// OASecret is the OA secret key (ZALO_OA_SECRET) that signs deliveries. Required.
	OASecret string
	Handler  Handler
	Logger   *slog.Logger
	// MaxBody bounds a request body (default 1 MiB).
	MaxBody int64
	// MaxAge refuses events whose timestamp is further than this from now, either way
	// (default 2 hours).
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Deadline bounds the engine's work on one event (default 1.5s): Zalo waits 2
	// seconds for an answer, and an event the engine could not store in time is better
	// answered 500 (Zalo delivers it again; the engine drops a repeat) than not at all.
	Deadline time.Duration
}

// Webhook is the http.Handler for POST /webhooks/zalo.
//
// Answers, in the order they are checked:
//   - 401: no signature header.
//   - 413: a body over MaxBody. 400: a body that is not JSON.
//   - 401: a wrong signature, or a timestamp further than MaxAge from now (a replay:
//     the body and its signature are genuine, but captured; no genuine retry is that
//     old, so nothing is lost by refusing it, and a monitoring person sees it as an
//     authentication failure rather than a silent 200).
//   - 200: an event the gateway does not use (echo, receipt, unknown kind: logged at
//     debug level), an unusable one (logged as a warning), a repeat (the engine dedupes
//     on msg_id), or one whose effects the engine stored.
//   - 500: the engine failed, or did not finish within Deadline (the conversation was
//     busy); Zalo delivers the event again.
//
// The engine runs inside the request: its work is a few Redis round trips, well within
// the 2 seconds Zalo waits, and replies are queued, not sent.
type Webhook struct {
	cfg Config
	log *slog.Logger
}

// NewWebhook checks cfg and builds a Webhook.
func NewWebhook(cfg Config) (*Webhook, error) {
	if cfg.AppID == "" {
		return nil, errors.New("zalo webhook: an app id is required (ZALO_APP_ID)")
	}
	if cfg.OASecret == "" {
		return nil, errors.New("zalo webhook: the OA secret key is required (ZALO_OA_SECRET)")
	}
	if cfg.Handler == nil {
		return nil, errors.New("zalo webhook: a handler is required")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = DefaultDeadline
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Webhook{cfg: cfg, log: cfg.Logger.With("component", "zalo")}, nil
}

// ServeHTTP checks the request and runs its event.
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if !webhook.IsPost(rw, r) {
		return
	}
	sig := r.Header.Get(SignatureHeader)
	if strings.TrimSpace(sig) == "" {
		w.log.Warn("webhook without signature", "remote", r.RemoteAddr)
		http.Error(rw, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, ok := webhook.ReadBody(rw, r, w.cfg.MaxBody)
	if !ok {
		return
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		w.log.Debug("malformed event", "err", err)
		http.Error(rw, "malformed event", http.StatusBadRequest)
		return
	}
	if !w.signed(sig, body, string(env.Timestamp)) {
		w.log.Warn("webhook signature mismatch", "remote", r.RemoteAddr)
		http.Error(rw, "unauthorized", http.StatusUnauthorized)
		return
	}
	if at := millis(env.Timestamp); at.IsZero() || absDuration(w.cfg.Now().Sub(at)) > w.cfg.MaxAge {
		w.log.Warn("replayed or undated event refused", "event", env.EventName, "timestamp", string(env.Timestamp))
		http.Error(rw, "stale event", http.StatusUnauthorized)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), w.cfg.Deadline)
	defer cancel()
	if err := w.process(ctx, env, body); err != nil {
		http.Error(rw, "try again later", http.StatusInternalServerError)
		return
	}
	rw.WriteHeader(http.StatusOK)
}

// process runs one verified event. It returns an error only when the event must be
// delivered again (the engine failed).
func (w *Webhook) process(ctx context.Context, env envelope, body []byte) error {
	p, err := parse(env, body)
	if err != nil {
		w.log.Warn("unusable event acknowledged", "event", env.EventName, "err", err)
		return nil
	}
	if p.skip != "" {
		w.log.Debug("event acknowledged, not run", "why", p.skip)
		return nil
	}
	for _, ev := range p.events {
		out, err := w.cfg.Handler.Handle(ctx, ev)
		if err != nil {
			w.log.Error("event not handled; zalo will deliver it again",
				"event", ev.ID, "conversation", bot.MaskID(ev.Conversation.Key()), "kind", ev.Kind, "err", err)
			return fmt.Errorf("handle zalo event %s: %w", ev.ID, err)
		}
		if out.Duplicate {
			w.log.Debug("repeated event acknowledged", "event", ev.ID)
		}
	}
	return nil
}

// signed checks header against sha256(app id + body + timestamp + OA secret), in
// constant time. The header is "mac=<hex>"; the bare hex is accepted too.
func (w *Webhook) signed(header string, body []byte, timestamp string) bool {
	header = strings.TrimSpace(header)
	if len(header) >= 4 && strings.EqualFold(header[:4], "mac=") {
		header = strings.TrimSpace(header[4:])
	}
	got, err := hex.DecodeString(header)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	want := Signature(w.cfg.AppID, body, timestamp, w.cfg.OASecret)
	return subtle.ConstantTimeCompare(got, want[:]) == 1
}

// Signature is Zalo's signature of a webhook delivery: SHA-256 of the app id, the raw
// body, the body's timestamp field and the OA secret key, concatenated.
func Signature(appID string, body []byte, timestamp, oaSecret string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(appID))
	h.Write(body)
	h.Write([]byte(timestamp))
	h.Write([]byte(oaSecret))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
