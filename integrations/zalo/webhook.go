package zalo

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/webhook"
	"github.com/sangkien/sangkien/logging"
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

// Inbox keeps verified bodies until they have been run (bot/redisstore's Inbox).
type Inbox interface {
	// Put stores body under id and claims it for this process for one lease period.
	// done removes it once run; done is nil when another process holds the body.
	Put(ctx context.Context, id string, body []byte) (done func(context.Context) error, err error)
	// Takeover claims up to max bodies whose claim ran out and calls run on each,
	// removing those run handles without error.
	Takeover(ctx context.Context, max int, run func(ctx context.Context, id string, body []byte) error) (int, error)
}

// Config configures a Webhook.
type Config struct {
	// AppID is the Zalo app's id (ZALO_APP_ID); it is part of the signed text. Required.
	AppID string
	// OASecret is the OA secret key (ZALO_OA_SECRET) that signs deliveries. Required.
	OASecret string
	Handler  Handler
	// Inbox keeps every verified event until it has been run. Required.
	Inbox  Inbox
	Logger *slog.Logger
	// MaxBody bounds a request body (default 1 MiB).
	MaxBody int64
	// MaxAge refuses events whose timestamp is further than this from now, either way
	// (default 2 hours).
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Deadline bounds storing and running one event inside the request (default 1.5s):
	// Zalo waits 2 seconds for an answer. An event not run in time stays in the inbox.
	Deadline time.Duration
	// TakeoverEvery is how often Run looks for events left in the inbox (default 5s).
	TakeoverEvery time.Duration
	// FileHosts are the hosts citizens' images and files may come from (default
	// DefaultFileHosts, as the media proxy's): a file elsewhere is refused at the step.
	FileHosts []string
}

// Defaults of Config (continued).
const (
	DefaultTakeoverEvery = 5 * time.Second
	// impossibleAge marks a timestamp no delivery, late or early, can carry: a unit
	// mistake or a forged field rather than a replay. It is answered 400.
	impossibleAge = 366 * 24 * time.Hour
	// takeoverBatch bounds the events one takeover runs.
	takeoverBatch = 100
	// inboxMaxAge is how long a stored event is run again: the engine remembers event
	// ids for a day (redisstore.DefaultDedupeTTL), and an event run after that could
	// repeat effects it had already. Older ones are dropped, with an ERROR line.
	inboxMaxAge = 24 * time.Hour
)

// Webhook is the http.Handler for POST /webhooks/zalo.
//
// Answers, in the order they are checked:
//   - 401: no signature header.
//   - 413: a body over MaxBody. 400: a body that is not JSON.
//   - 401: a wrong signature.
//   - 400: a timestamp that is missing, not a whole number, or more than a year from
//     now (no delivery is that late or early: the sender got the unit or the field
//     wrong, and asking again cannot help).
//   - 401: a timestamp further than MaxAge from now, either way (a replay: the body
//     and its signature are genuine, but captured; no genuine retry is that old, so
//     nothing is lost by refusing it, and a monitoring person sees it as an
//     authentication failure rather than a silent 200).
//   - 200: an event the gateway does not use (an echo of its own send, a receipt, an
//     unknown kind: logged at debug level) or cannot use (logged as a warning); it is
//     not stored.
//   - 500: the inbox could not store the event (Redis is out); Zalo may deliver it
//     again.
//   - 200: the event is stored. It is run at once, inside the request, within
//     Deadline; if that fails or takes too long it stays in the inbox and Run runs it
//     again once its claim ran out. A repeat is stored and run again: the engine
//     drops it.
//
// Refusals are logged once when they start and once when a request is accepted again,
// with their count, so a burst of forged or stale requests is two log lines.
type Webhook struct {
	cfg     Config
	log     *slog.Logger
	refused *bot.Alarm // requests refused
	down    *bot.Alarm // the inbox does not store
	failing *bot.Alarm // stored events the engine could not run
}

// NewWebhook checks cfg and builds a Webhook.
func NewWebhook(cfg Config) (*Webhook, error) {
	switch {
	case cfg.AppID == "":
		return nil, errors.New("zalo webhook: an app id is required (ZALO_APP_ID)")
	case cfg.OASecret == "":
		return nil, errors.New("zalo webhook: the OA secret key is required (ZALO_OA_SECRET)")
	case cfg.Handler == nil:
		return nil, errors.New("zalo webhook: a handler is required")
	case cfg.Inbox == nil:
		return nil, errors.New("zalo webhook: an inbox is required")
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
	if cfg.TakeoverEvery <= 0 {
		cfg.TakeoverEvery = DefaultTakeoverEvery
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.FileHosts) == 0 {
		cfg.FileHosts = DefaultFileHosts()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	log := cfg.Logger.With("component", "zalo")
	return &Webhook{
		cfg: cfg, log: log,
		refused: bot.NewAlarm(log, slog.LevelWarn, cfg.Now),
		down:    bot.NewAlarm(log, slog.LevelError, cfg.Now),
		failing: bot.NewAlarm(log, slog.LevelError, cfg.Now),
	}, nil
}

// ServeHTTP checks the request, stores its event and runs it.
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	r, ok := webhook.Accept(rw, r)
	if !ok {
		return
	}
	sig := r.Header.Get(SignatureHeader)
	if strings.TrimSpace(sig) == "" {
		w.refuse(rw, http.StatusUnauthorized, "webhook without signature", "remote", r.RemoteAddr)
		return
	}
	body, ok := webhook.ReadBody(rw, r, w.cfg.MaxBody)
	if !ok {
		return
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		w.refuse(rw, http.StatusBadRequest, "malformed webhook body refused", "err", err)
		return
	}
	if !w.signed(sig, body, string(env.Timestamp)) {
		w.refuse(rw, http.StatusUnauthorized, "webhook signature mismatch", "remote", r.RemoteAddr)
		return
	}
	now := w.cfg.Now()
	at, err := eventTime(env.Timestamp)
	if err == nil && !within(at, now, impossibleAge) {
		err = fmt.Errorf("timestamp %s is more than a year from now", at.Format(time.RFC3339))
	}
	if err != nil {
		w.refuse(rw, http.StatusBadRequest, "event with an impossible timestamp refused",
			"event", env.EventName, "timestamp", string(env.Timestamp), "err", err)
		return
	}
	if !within(at, now, w.cfg.MaxAge) {
		w.refuse(rw, http.StatusUnauthorized, "replayed event refused", "event", env.EventName, "timestamp", string(env.Timestamp))
		return
	}
	w.refused.Clear("zalo webhook requests accepted again")

	events := w.events(r.Context(), env, body, at)
	if len(events) == 0 {
		rw.WriteHeader(http.StatusOK) // nothing to run, so nothing to keep
		return
	}
	// One deadline for storing and running: Zalo waits 2 seconds for the answer.
	ctx, cancel := context.WithTimeout(r.Context(), w.cfg.Deadline)
	defer cancel()
	done, err := w.cfg.Inbox.Put(ctx, inboxID(body), body)
	if err != nil {
		w.down.Raise("zalo events cannot be stored; answering 500 until Redis is back", "err", err)
		http.Error(rw, "try again later", http.StatusInternalServerError)
		return
	}
	w.down.Clear("zalo events are stored again")
	if done != nil {
		if err := w.run(ctx, events); err == nil {
			if err := done(ctx); err != nil {
				w.log.DebugContext(ctx, "event run, not yet removed from the inbox", "event", env.EventName, "err", err)
			}
		}
	}
	rw.WriteHeader(http.StatusOK)
}

// Run runs, every TakeoverEvery until ctx ends, the events left in the inbox: those
// whose run failed, and those of a process that died while running them.
func (w *Webhook) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.TakeoverEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := w.Takeover(ctx); err != nil && ctx.Err() == nil {
			w.down.Raise("zalo inbox cannot be read", "err", err)
		}
	}
}

// Takeover runs the events left in the inbox once, and reports how many it ran.
func (w *Webhook) Takeover(ctx context.Context) (int, error) {
	return w.cfg.Inbox.Takeover(ctx, takeoverBatch, func(ctx context.Context, id string, body []byte) error {
		var env envelope
		if err := json.Unmarshal(body, &env); err != nil {
			return nil // verified before it was stored; never seen, and nothing to run
		}
		at, err := eventTime(env.Timestamp)
		if err != nil {
			at = w.cfg.Now()
		}
		if at.Before(w.cfg.Now().Add(-inboxMaxAge)) {
			w.log.Error("zalo event dropped from the inbox: it could not be run for a day",
				"event", env.EventName, "inbox_id", id, "timestamp", string(env.Timestamp))
			return nil
		}
		// A request id of its own: the request that brought the event is long gone.
		ctx, cancel := context.WithTimeout(logging.WithRequestID(ctx, logging.NewRequestID()), w.cfg.Deadline)
		defer cancel()
		w.log.InfoContext(ctx, "zalo event run again from the inbox", "event", env.EventName, "inbox_id", id)
		return w.run(ctx, w.events(ctx, env, body, at))
	})
}

// refuse answers a request the webhook does not take.
func (w *Webhook) refuse(rw http.ResponseWriter, status int, msg string, args ...any) {
	w.refused.Raise(msg+" (further refusals are counted until a request is accepted)", args...)
	http.Error(rw, http.StatusText(status), status)
}

// events parses a verified body into the events to run. An event the gateway does not
// use (an echo of its own send, a receipt, an unknown kind) or cannot use gives none:
// it is acknowledged without being stored.
func (w *Webhook) events(ctx context.Context, env envelope, body []byte, at time.Time) []bot.Event {
	p, err := parse(env, body, at, FileURLs{Hosts: w.cfg.FileHosts})
	if err != nil {
		w.log.WarnContext(ctx, "unusable event acknowledged", "event", env.EventName, "err", err)
		return nil
	}
	if p.skip != "" {
		w.log.DebugContext(ctx, "event acknowledged, not run", "why", p.skip)
	}
	return p.events
}

// run hands events to the engine. It returns an error only when they must be run
// again (the engine failed).
func (w *Webhook) run(ctx context.Context, events []bot.Event) error {
	for _, ev := range events {
		out, err := w.cfg.Handler.Handle(ctx, ev)
		if err != nil {
			w.failing.Raise("zalo events not run; they stay in the inbox and are run again",
				"event", ev.ID, "conversation", bot.MaskID(ev.Conversation.Key()), "kind", ev.Kind, "err", err)
			return fmt.Errorf("handle zalo event %s: %w", ev.ID, err)
		}
		if out.Duplicate {
			w.log.DebugContext(ctx, "repeated event acknowledged", "event", ev.ID)
		}
	}
	w.failing.Clear("zalo events run again")
	return nil
}

// inboxID names a body in the inbox: a redelivery repeats the body byte for byte.
func inboxID(body []byte) string {
	sum := sha256.Sum256(body)
	return "h" + hex.EncodeToString(sum[:16])
}

// within reports whether at is no further than d from now, either way. It compares
// times, never their difference: a difference past 292 years overflows a Duration.
func within(at, now time.Time, d time.Duration) bool {
	return !at.Before(now.Add(-d)) && !at.After(now.Add(d))
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
