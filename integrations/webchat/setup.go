package webchat

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/clientaddr"
	"github.com/sangkien/sangkien/locales"
)

// Keys makes and keeps shared secret keys (bot/redisstore's SharedKey).
type Keys interface {
	SharedKey(ctx context.Context, name string, n int) ([]byte, error)
}

// Channel is the channel as a gateway runs it: the server that receives, the sender
// that replies.
type Channel struct {
	Server *Server
	Sender *Sender
	Files  *Files // nil without SetupConfig.Files
}

// SetupConfig is what Setup builds the channel from.
type SetupConfig struct {
	Settings Settings
	Handler  Handler
	Replies  Replies
	Limiter  Limiter
	Files    FileStore // optional: no file uploads without it
	// Proxies tells whose X-Forwarded-For names the client (TRUSTED_PROXIES).
	Proxies clientaddr.Resolver
	// Keys keeps the token key when WEBCHAT_SECRET is empty.
	Keys    Keys
	Catalog *locales.Catalog
	// Done, when closed, ends the open event streams (the gateway stops).
	Done   <-chan struct{}
	Logger *slog.Logger
}

// Setup builds the channel: the token key (WEBCHAT_SECRET, else one kept in Redis so
// that every process checks every token, loaded now if Redis answers), the server and
// the sender. Mount the server
// on the gateway's mux and give the sender to the channel's dispatcher.
func Setup(ctx context.Context, c SetupConfig) (*Channel, error) {
	var key []byte
	if c.Settings.Secret != "" {
		key = []byte(c.Settings.Secret)
	} else if k, err := c.Keys.SharedKey(ctx, "webchat", 32); err == nil {
		key = k
	} else {
		// Not fatal: the gateway starts without Redis (and is not ready); the key is
		// asked for again at the first request.
		c.Logger.Warn("web chat token key unavailable at start; asked again at the first request", "component", "webchat", "err", err)
	}
	srv, err := NewServer(Config{Handler: c.Handler, Replies: c.Replies, Limiter: c.Limiter, Files: c.Files, Proxies: c.Proxies, Key: key, Keys: c.Keys,
		TokenTTL: c.Settings.TokenTTL, Origins: c.Settings.Origins, Catalog: c.Catalog, Logger: c.Logger, Done: c.Done})
	if err != nil {
		return nil, err
	}
	c.Logger.Info("channel started", "component", "webchat", "page", PagePath, "widget", WidgetPath,
		"origins", len(c.Settings.Origins))
	ch := &Channel{Server: srv, Sender: &Sender{Replies: c.Replies}}
	if c.Files != nil {
		ch.Files = &Files{Store: c.Files}
	}
	return ch, nil
}

// StartConfig is what Start needs of the gateway besides SetupConfig.
type StartConfig struct {
	SetupConfig
	Mux *http.ServeMux
	// Run starts a part of the gateway that runs until it stops (lifecycle.Parts.Run).
	Run func(name string, run func(context.Context))
	// Dispatcher builds the channel's dispatcher on the gateway's queues.
	Dispatcher func(bot.DispatcherConfig) (*bot.Dispatcher, error)
	// Wrap, when set, wraps the sender (the metrics count its sends).
	Wrap func(bot.Sender) bot.Sender
	// BulkQuiet holds broadcasts in quiet hours (bot.DispatcherConfig's).
	BulkQuiet interface{ Next(time.Time) time.Time }
}

// Start sets the channel up when its settings enable it: Setup, the server mounted on
// the mux and the dispatcher running. It returns the channel's files for the media
// proxy, nil when the channel does not run.
func Start(ctx context.Context, c StartConfig) (*Files, error) {
	if !c.Settings.Enabled {
		return nil, nil
	}
	ch, err := Setup(ctx, c.SetupConfig)
	if err != nil {
		return nil, err
	}
	ch.Server.Mount(c.Mux)
	var sender bot.Sender = ch.Sender
	if c.Wrap != nil {
		sender = c.Wrap(sender)
	}
	// A reply is one Redis command: no provider's quota to keep to, no per-chat pace.
	d, err := c.Dispatcher(bot.DispatcherConfig{Channel: bot.Web, Sender: sender, Limit: 1000, Window: time.Second,
		ChatInterval: 100 * time.Millisecond, ChatBurst: 10,
		BulkQuiet: c.BulkQuiet})
	if err != nil {
		return nil, err
	}
	c.Run("webchat dispatcher", func(ctx context.Context) { _ = d.Run(ctx) })
	return ch.Files, nil
}
