package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/webhook"
)

// SecretHeader carries the secret given to setWebhook on every delivery.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// Defaults of Config.
const (
	DefaultMaxBody     = 1 << 20
	DefaultAlbumWindow = time.Second
	DefaultSideTimeout = 10 * time.Second
)

// Handler runs one event; *bot.Engine satisfies it. When Handle returns nil the event's
// effects are stored.
type Handler interface {
	Handle(ctx context.Context, ev bot.Event) (bot.Outcome, error)
}

var _ Handler = (*bot.Engine)(nil)

// Config configures a Webhook.
type Config struct {
	// Secret must equal the X-Telegram-Bot-Api-Secret-Token header. Required.
	Secret string
	// Client makes the calls an update asks for besides the engine (removing a pressed
	// keyboard, the group-chat notice, and in polling answerCallbackQuery, which the
	// webhook names in its answer instead). Nil skips them all.
	Client  *Client
	Handler Handler
	Logger  *slog.Logger
	// MaxBody bounds a request body (default 1 MiB).
	MaxBody int64
	// BotUsername links the group-chat notice to the private chat; empty takes the
	// Client's username.
	BotUsername string
	// Albums keeps the parts of albums until the album goes to the engine. Required.
	Albums AlbumStore
	// AlbumWindow is how long after its latest part an album goes to the engine as one
	// event (default 1s): Telegram does not say how many parts will come.
	AlbumWindow time.Duration
	// SideTimeout bounds each call made besides the engine (default 10s).
	SideTimeout time.Duration
}

// Webhook is the http.Handler for POST /webhooks/telegram, and through Process the
// update path of polling mode too.
//
// It answers 200 once the engine has stored an event's effects (or knew the update
// already), and 500 when the engine failed, so Telegram delivers the update again later.
//
// Albums are the exception. Telegram sends each photo of an album as its own update,
// with nothing saying how many will come. Each part is stored in the AlbumStore, shared
// by every process, and answered 200 once stored (500 when it could not be, so Telegram
// delivers it again); holding the answers until the album is complete would hold
// Telegram's delivery of the chat. RunAlbums, in every process, hands each album to the
// engine as one event, with the first part's update_id as its ID, once AlbumWindow
// passed without a new part.
type Webhook struct {
	cfg       Config
	log       *slog.Logger
	secretSum [sha256.Size]byte
	wg        sync.WaitGroup // side calls
	stop      chan struct{}  // closed by Close: RunAlbums returns
	stopOnce  sync.Once
	groups    groupNotices
	refused   *bot.Alarm // requests with a wrong secret
	failing   *bot.Alarm // updates the engine could not run (Redis out)
}

// NewWebhook checks cfg and builds a Webhook. A webhook without a secret would run
// anyone's forged updates, so an empty Secret is an error.
func NewWebhook(cfg Config) (*Webhook, error) {
	if cfg.Secret == "" {
		return nil, errors.New("telegram webhook: a secret is required (TELEGRAM_WEBHOOK_SECRET)")
	}
	if !validSecret(cfg.Secret) {
		// setWebhook refuses such a secret, so no delivery could ever carry it.
		return nil, errors.New("telegram webhook: the secret takes 1 to 256 characters A-Z, a-z, 0-9, _ and -")
	}
	if cfg.Handler == nil {
		return nil, errors.New("telegram webhook: a handler is required")
	}
	if cfg.Albums == nil {
		return nil, errors.New("telegram webhook: an album store is required")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.AlbumWindow <= 0 {
		cfg.AlbumWindow = DefaultAlbumWindow
	}
	if cfg.SideTimeout <= 0 {
		cfg.SideTimeout = DefaultSideTimeout
	}
	if cfg.BotUsername == "" && cfg.Client != nil {
		cfg.BotUsername = cfg.Client.Username()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	log := cfg.Logger.With("component", "telegram")
	return &Webhook{
		cfg: cfg, log: log,
		secretSum: sha256.Sum256([]byte(cfg.Secret)), stop: make(chan struct{}),
		refused: bot.NewAlarm(log, slog.LevelWarn, nil), failing: bot.NewAlarm(log, slog.LevelError, nil),
	}, nil
}

// ServeHTTP checks the secret and the body, then processes the update.
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	r, ok := webhook.Accept(rw, r)
	if !ok {
		return
	}
	got := sha256.Sum256([]byte(r.Header.Get(SecretHeader)))
	if subtle.ConstantTimeCompare(got[:], w.secretSum[:]) != 1 {
		w.refused.Raise("webhook secret mismatch (further refusals are counted until a request is accepted)", "remote", r.RemoteAddr)
		http.Error(rw, "unauthorized", http.StatusUnauthorized)
		return
	}
	w.refused.Clear("webhook requests carry the secret again")
	body, ok := webhook.ReadBody(rw, r, w.cfg.MaxBody)
	if !ok {
		return
	}
	malformed, answer, err := w.process(r.Context(), body, true)
	switch {
	case malformed:
		// Only a body that is not JSON at all is refused: valid JSON the gateway cannot
		// use is acknowledged, or Telegram would deliver it again and again.
		w.log.DebugContext(r.Context(), "malformed update")
		http.Error(rw, "malformed update", http.StatusBadRequest)
	case err != nil:
		http.Error(rw, "try again later", http.StatusInternalServerError)
	case answer != "":
		// Telegram runs a method the answer to its delivery names: the pressed button's
		// spinner stops without a call of the gateway's own. How it went is not told,
		// as nothing would be done about a failed answerCallbackQuery anyway: the
		// spinner stops by itself after a while.
		body, _ := json.Marshal(callbackAnswer{Method: "answerCallbackQuery", ID: answer})
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusOK)
		_, _ = rw.Write(body)
	default:
		rw.WriteHeader(http.StatusOK)
	}
}

// callbackAnswer is answerCallbackQuery as the answer to a webhook delivery.
type callbackAnswer struct {
	Method string `json:"method"`
	ID     string `json:"callback_query_id"`
}

// Process runs one update, the JSON body Telegram sent: the path shared by the webhook
// and polling. It returns an error only when the update must be delivered again (the
// engine failed, or an album part was not stored); everything else, including updates
// the gateway does not use or cannot use, is done with. An unusable update (no readable
// update_id, no chat, a chat id of 0 or unreadable) is logged once and never produces
// a send.
func (w *Webhook) Process(ctx context.Context, body []byte) error {
	malformed, _, err := w.process(ctx, body, false)
	if malformed {
		w.log.WarnContext(ctx, "malformed update (not JSON) acknowledged")
	}
	return err
}

// process is Process, telling a body that is not JSON at all (malformed) from the
// rest: the webhook refuses it, where polling can only pass it by. The update is
// parsed once: json.Unmarshal finds a syntax error before it decodes anything. With
// inline, a pressed button's callback query is not answered by a call but returned
// (answer) for the webhook's answer to name.
func (w *Webhook) process(ctx context.Context, body []byte, inline bool) (malformed bool, answer string, err error) {
	p, err := parse(body)
	if errors.Is(err, errMalformed) {
		return true, "", nil
	}
	if err != nil {
		w.log.WarnContext(ctx, "unusable update acknowledged", "update", p.id, "err", err)
		return false, "", nil
	}
	if p.note != "" {
		w.log.InfoContext(ctx, "update read in part: a field of an unexpected type was left empty", "update", p.id, "field", p.note)
	}
	switch {
	case p.skip != "":
		w.log.DebugContext(ctx, "update acknowledged, not run", "update", p.id, "why", p.skip)
		return false, "", nil
	case p.group != nil:
		w.answerGroup(ctx, p.group)
		return false, "", nil
	case p.album != "" && len(p.events) == 1:
		return false, "", w.gather(ctx, p.id, p.album, p.events[0])
	}
	for _, ev := range p.events {
		out, err := w.cfg.Handler.Handle(ctx, ev)
		if err != nil {
			w.failing.Raise("event not handled; telegram will deliver it again (further failures are counted until one is handled)",
				"update", p.id, "conversation", maskChat(ev.Conversation.ID), "kind", ev.Kind, "err", err)
			return false, "", fmt.Errorf("handle update %d: %w", p.id, err)
		}
		w.failing.Clear("events are handled again")
		if out.Duplicate {
			w.log.DebugContext(ctx, "repeated update acknowledged", "update", p.id)
			if p.callback != nil && inline && w.cfg.Client != nil {
				// Telegram delivers again when it missed the first answer, and with it
				// the answer to the button: naming it again costs nothing.
				answer = p.callback.ID
			}
			continue
		}
		if p.callback != nil {
			if inline && w.cfg.Client != nil {
				answer = p.callback.ID
			}
			w.answerButton(ctx, p.callback, answer == "")
		}
	}
	return false, answer, nil
}

// Close stops RunAlbums (after the album it is handing over, if any) and waits, within
// ctx, for side calls under way. Albums still gathering stay in the AlbumStore for any
// process's RunAlbums, this one's after a restart included. Call it after the HTTP
// server stopped taking requests.
func (w *Webhook) Close(ctx context.Context) error {
	w.stopOnce.Do(func() { close(w.stop) })
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("telegram webhook close: %w", ctx.Err())
	}
}

// validSecret reports a secret Telegram's setWebhook accepts.
func validSecret(s string) bool {
	if len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// answerButton stops the button's spinner (with answer: the webhook's answer does it
// otherwise), then takes the keyboard off the message so old buttons cannot be pressed
// twice.
func (w *Webhook) answerButton(ctx context.Context, q *callbackQuery, answer bool) {
	onMessage := q.Message != nil && q.Message.Chat != nil
	if !answer && !onMessage {
		return
	}
	w.side(ctx, func(ctx context.Context, c *Client) {
		if answer {
			if err := c.answerCallback(ctx, q.ID); err != nil {
				w.log.WarnContext(ctx, "answerCallbackQuery failed", "err", err)
			}
		}
		if !onMessage {
			return
		}
		err := c.removeInlineKeyboard(ctx, q.Message.Chat.ID, int(q.Message.MessageID))
		if err != nil && !strings.Contains(err.Error(), "message is not modified") {
			w.log.WarnContext(ctx, "removing pressed keyboard failed", "conversation", maskChat(fmt.Sprint(q.Message.Chat.ID)), "err", err)
		}
	})
}

// answerGroup tells a group the bot only talks in private chats, at most once an hour
// per group and process: a busy group must not spend the bot's sending limit. Nothing
// is stored.
func (w *Webhook) answerGroup(ctx context.Context, m *message) {
	if !w.groups.due(m.Chat.ID, time.Now()) {
		w.log.DebugContext(ctx, "group message ignored: notice given recently", "chat", maskChat(fmt.Sprint(m.Chat.ID)))
		return
	}
	w.log.DebugContext(ctx, "group message answered with a notice", "chat", maskChat(fmt.Sprint(m.Chat.ID)))
	w.side(ctx, func(ctx context.Context, c *Client) {
		if err := c.sendText(ctx, m.Chat.ID, c.texts.groupNotice(w.cfg.BotUsername), int(m.MessageID)); err != nil {
			w.log.WarnContext(ctx, "group notice failed", "err", err)
		}
	})
}

// side runs fn in the background with a bounded time: the webhook's answer does not
// wait for calls Telegram does not need before it. fn's context keeps ctx's values (the
// request id of its log lines), not its end.
func (w *Webhook) side(ctx context.Context, fn func(context.Context, *Client)) {
	if w.cfg.Client == nil {
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.SideTimeout)
		defer cancel()
		fn(ctx, w.cfg.Client)
	}()
}

// groupNoticeEvery is how often one group may be told to write in private.
const groupNoticeEvery = time.Hour

// groupNotices remembers when each group was last given the notice.
type groupNotices struct {
	mu   sync.Mutex
	last map[int64]time.Time
}

// due reports whether the group may be given the notice now, and if so records it.
func (g *groupNotices) due(chat int64, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last == nil {
		g.last = map[int64]time.Time{}
	}
	if t, ok := g.last[chat]; ok && now.Sub(t) < groupNoticeEvery {
		return false
	}
	if len(g.last) >= 10000 { // forget the old ones rather than grow without bound
		for c, t := range g.last {
			if now.Sub(t) >= groupNoticeEvery {
				delete(g.last, c)
			}
		}
	}
	g.last[chat] = now
	return true
}
