package webchat

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/clientaddr"
	"github.com/sangkien/sangkien/locales"
)

// Paths the channel serves.
const (
	PagePath   = "/chat"
	WidgetPath = "/webchat/widget.js"
	APIPrefix  = "/webchat/api/"
)

// Handler runs one event; *bot.Engine satisfies it. When Handle returns nil the event's
// effects are stored.
type Handler interface {
	Handle(ctx context.Context, ev bot.Event) (bot.Outcome, error)
}

var _ Handler = (*bot.Engine)(nil)

// Replies keeps each conversation's replies until the browser reads them
// (bot/redisstore's WebReplies).
type Replies interface {
	// Append adds entry under reply id, once; it returns the entry's id ("" for a repeat).
	Append(ctx context.Context, conv, id string, entry []byte) (string, error)
	// After returns up to n entries after entry id after ("": from the first), oldest first.
	After(ctx context.Context, conv, after string, n int) (ids []string, entries [][]byte, err error)
}

// Limiter is a sliding-window limit shared by every process (bot.RateLimiter, the
// delivery queue's): Reserve counts one request and returns 0, or counts nothing and
// returns how long to wait once limit requests were counted within window.
type Limiter interface {
	Reserve(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error)
}

// ConversationCap decides whether a sender (here a client address) may open one more
// conversation now; when it may not, wait is how long until one more may. The default
// is bot.ConversationCap on the Limiter, NewConversationsPerHour an hour.
type ConversationCap interface {
	Open(ctx context.Context, sender string) (ok bool, wait time.Duration, err error)
}

// The API's limits. A browser behind a city office's NAT shares its address with its
// colleagues, hence the per-address limits well above one person's pace.
const (
	NewConversationsPerHour = 20  // per address
	MessagesPerMinute       = 30  // per conversation
	AddressMessagesPerMin   = 120 // per address, all its conversations
	StreamsPerMinute        = 30  // event stream (re)connections per conversation
	// MaxBody bounds a message's JSON body; MaxText and MaxPayload its fields.
	MaxBody    = 8 << 10
	MaxText    = 4000
	MaxPayload = 64
)

// Config configures a Server.
type Config struct {
	Handler Handler
	Replies Replies
	Limiter Limiter
	// Files, when set, keeps the files citizens send (POST /webchat/api/files).
	Files FileStore
	// Cap, when set, replaces the default cap on new conversations per address.
	Cap ConversationCap
	// Proxies tells which peers' X-Forwarded-For names the client (TRUSTED_PROXIES): the
	// address the per-address limits and the cap count.
	Proxies clientaddr.Resolver
	// Key signs tokens (at least 16 bytes); when it is nil, Keys makes one and keeps it
	// in Redis for every process, asked again until it answers. TokenTTL is how long a
	// token works.
	Key      []byte
	Keys     Keys
	TokenTTL time.Duration
	// Origins are the other sites allowed to call the API (WEBCHAT_ORIGINS).
	Origins []string
	Catalog *locales.Catalog
	Logger  *slog.Logger
	// Done, when closed, ends every open event stream (the gateway is stopping).
	Done <-chan struct{}
	// Poll is how often an open event stream looks for new replies (1s); StreamFor how
	// long one stays open before the browser is told to reconnect (5 minutes).
	Poll      time.Duration
	StreamFor time.Duration
	Now       func() time.Time
}

// Server serves the page, the widget and the API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	tokens  *signer
	origins map[string]bool
	page    *pages
}

// NewServer checks cfg and builds the server, its page and widget included.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Handler == nil || cfg.Replies == nil || cfg.Limiter == nil || cfg.Catalog == nil {
		return nil, errors.New("webchat: handler, replies, limiter and catalog are required")
	}
	if cfg.Key != nil && len(cfg.Key) < 16 || cfg.Key == nil && cfg.Keys == nil {
		return nil, errors.New("webchat: a token key of at least 16 bytes, or a key store, is required")
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.StreamFor <= 0 {
		cfg.StreamFor = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Cap == nil {
		cfg.Cap = bot.ConversationCap{Limiter: cfg.Limiter, Channel: bot.Web, Limit: NewConversationsPerHour, Window: time.Hour}
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "webchat"),
		tokens: &signer{key: cfg.Key, ttl: cfg.TokenTTL, now: cfg.Now, load: func(ctx context.Context) ([]byte, error) {
			return cfg.Keys.SharedKey(ctx, "webchat", 32)
		}}, origins: map[string]bool{}}
	for _, o := range cfg.Origins {
		s.origins[o] = true
	}
	var err error
	if s.page, err = newPages(cfg.Catalog); err != nil {
		return nil, err
	}
	return s, nil
}

// Mount serves the page, the widget and the API on mux.
func (s *Server) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PagePath, s.page.chat)
	mux.HandleFunc("GET "+WidgetPath, s.page.widget)
	mux.Handle("OPTIONS "+APIPrefix, s.cors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.Handle("POST "+APIPrefix+"conversations", s.cors(http.HandlerFunc(s.openConversation)))
	mux.Handle("POST "+APIPrefix+"messages", s.cors(http.HandlerFunc(s.postMessage)))
	mux.Handle("GET "+APIPrefix+"events", s.cors(http.HandlerFunc(s.events)))
	if s.cfg.Files != nil {
		mux.Handle("POST "+APIPrefix+"files", s.cors(http.HandlerFunc(s.postFile)))
	}
}
