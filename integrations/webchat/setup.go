package webchat

import (
	"context"
	"fmt"
	"log/slog"

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
}

// SetupConfig is what Setup builds the channel from.
type SetupConfig struct {
	Settings Settings
	Handler  Handler
	Replies  Replies
	Limiter  Limiter
	// Keys keeps the token key when WEBCHAT_SECRET is empty.
	Keys    Keys
	Catalog *locales.Catalog
	// Done, when closed, ends the open event streams (the gateway stops).
	Done   <-chan struct{}
	Logger *slog.Logger
}

// Setup builds the channel: the token key (WEBCHAT_SECRET, else one kept in Redis so
// that every process checks every token), the server and the sender. Mount the server
// on the gateway's mux and give the sender to the channel's dispatcher.
func Setup(ctx context.Context, c SetupConfig) (*Channel, error) {
	key := []byte(c.Settings.Secret)
	if len(key) == 0 {
		var err error
		if key, err = c.Keys.SharedKey(ctx, "webchat", 32); err != nil {
			return nil, fmt.Errorf("WEBCHAT_SECRET is empty and no key could be kept in Redis: %w", err)
		}
	}
	srv, err := NewServer(Config{Handler: c.Handler, Replies: c.Replies, Limiter: c.Limiter, Key: key,
		TokenTTL: c.Settings.TokenTTL, Origins: c.Settings.Origins, Catalog: c.Catalog, Logger: c.Logger, Done: c.Done})
	if err != nil {
		return nil, err
	}
	c.Logger.Info("channel started", "component", "webchat", "page", PagePath, "widget", WidgetPath,
		"origins", len(c.Settings.Origins))
	return &Channel{Server: srv, Sender: &Sender{Replies: c.Replies}}, nil
}
