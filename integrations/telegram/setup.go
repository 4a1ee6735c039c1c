package telegram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sangkien/sangkien/envvar"
	"github.com/sangkien/sangkien/locales"
)

// This file is what a gateway needs to set the channel up: its settings and their
// checks, Telegram's limits, the webhook's address and the command menu.

// Settings is the channel's configuration, read from the environment by the gateway.
type Settings struct {
	Token    string // TELEGRAM_BOT_TOKEN; empty: no Telegram channel
	Secret   string // TELEGRAM_WEBHOOK_SECRET
	Endpoint string // TELEGRAM_API_ENDPOINT
	Mode     string // TELEGRAM_MODE: "webhook" or "polling"
	// ChatInterval is the least time between messages to one chat (Telegram asks for
	// about one a second); bursts of ChatBurst are allowed.
	ChatInterval time.Duration
	// PaidBroadcast (TELEGRAM_PAID_BROADCAST) sends the broadcasts' messages with
	// allow_paid_broadcast: up to PaidLimit a second instead of BotLimit, for 0.1
	// Telegram Stars a message from the bot's balance. Replies never carry it.
	PaidBroadcast bool
	// Bulk bounds the bot's bulk messages (TELEGRAM_BULK_RATE); Replies, when set, its
	// replies too (TELEGRAM_REPLY_RATE). Both are shared by every gateway process.
	Bulk, Replies envvar.Rate
}

// Check reports what is wrong with s; every error names its variable.
func (s Settings) Check() error {
	if s.Mode != "webhook" && s.Mode != "polling" {
		return fmt.Errorf("TELEGRAM_MODE=%q: want webhook or polling", s.Mode)
	}
	if s.Token == "" {
		return nil
	}
	if s.Mode == "webhook" && s.Secret == "" {
		return errors.New("TELEGRAM_WEBHOOK_SECRET: required in webhook mode, so that only Telegram can post updates")
	}
	if !strings.Contains(s.Endpoint, "%s") {
		return fmt.Errorf("TELEGRAM_API_ENDPOINT=%q: want go-telegram-bot-api's format, e.g. %s", s.Endpoint, DefaultEndpoint)
	}
	return nil
}

// Telegram's limits: 30 messages a second per bot, about one a second per chat. The
// window is a little longer than a second so that network jitter between the limiter
// and Telegram cannot squeeze a 31st message into Telegram's own one-second count.
//
// PaidLimit is the broadcasts' limit when they are paid for (allow_paid_broadcast), in
// the same window.
const (
	BotLimit       = 30
	PaidLimit      = 1000
	BotWindow      = time.Second + 100*time.Millisecond
	ChatBurst      = 3
	MaxConnections = 40 // setWebhook's max_connections
	PollTimeout    = 30 // getUpdates' long-poll timeout, in seconds
)

// Updates are the update kinds the gateway asks Telegram for.
func Updates() []string {
	return []string{"message", "edited_message", "callback_query", "my_chat_member"}
}

// WebhookPath is where the gateway serves the webhook.
const WebhookPath = "/webhooks/telegram"

// WebhookURL is the webhook's public address under the gateway's public base URL.
func WebhookURL(publicBase string) string {
	return strings.TrimRight(publicBase, "/") + WebhookPath
}

// PollingSecret is a webhook secret for polling mode, where the webhook handler is not
// mounted and only its Process is used: a random one, never shown to anybody.
func PollingSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Commands is the bot's command menu in Vietnamese (the default) and English.
func Commands(cat *locales.Catalog) map[string][]Command {
	out := map[string][]Command{}
	for code, lang := range map[string]string{"": locales.VI, "en": locales.EN} {
		l := cat.For(lang)
		out[code] = []Command{
			{Command: "start", Description: l.T("command.start")},
			{Command: "initiative", Description: l.T("command.initiative")},
			{Command: "feedback", Description: l.T("command.feedback")},
			{Command: "status", Description: l.T("command.status")},
			{Command: "language", Description: l.T("command.language")},
			{Command: "human", Description: l.T("command.human")},
			{Command: "cancel", Description: l.T("command.cancel")},
			{Command: "help", Description: l.T("command.help")},
		}
	}
	return out
}

// Channel is the channel as a gateway runs it: the client that sends and the webhook
// that receives, in webhook or polling mode.
type Channel struct {
	Client  *Client
	Webhook *Webhook
	polling bool
	log     *slog.Logger
}

// SetupConfig is what Setup builds the channel from.
type SetupConfig struct {
	Settings Settings
	Handler  Handler
	Albums   AlbumStore
	Catalog  *locales.Catalog // the command menu's texts
	// PublicBaseURL, when set, is where Telegram is told to post updates (webhook mode).
	PublicBaseURL string
	Logger        *slog.Logger
}

// apiClient is the HTTP client of the Bot API: its connections are kept for reuse, as
// many as the sends in flight need (the default keeps two, and every other send would
// open and close a TLS connection).
func apiClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
	return &http.Client{Timeout: 60 * time.Second, Transport: t}
}

// Setup builds the client and the webhook, sets the command menu and, in webhook mode
// with a public URL, registers the webhook with Telegram. Serve the webhook at
// WebhookPath (webhook mode), or run Poll (Polling).
func Setup(ctx context.Context, c SetupConfig) (*Channel, error) {
	s := c.Settings
	// The adapter's parts name their own component; log here is for the setup's lines.
	log := c.Logger.With("component", "telegram")
	client, err := NewClient(s.Token, s.Endpoint, apiClient(), c.Catalog, c.Logger)
	if err != nil {
		return nil, fmt.Errorf("TELEGRAM_BOT_TOKEN: %w", err)
	}
	client.paidBroadcast = s.PaidBroadcast
	secret := s.Secret
	if s.Mode == "polling" && secret == "" {
		secret = PollingSecret()
	}
	webhook, err := NewWebhook(Config{
		Secret: secret, Client: client, Handler: c.Handler, Albums: c.Albums,
		Logger: c.Logger, BotUsername: client.Username(),
	})
	if err != nil {
		return nil, fmt.Errorf("TELEGRAM_WEBHOOK_SECRET: %w", err)
	}
	if err := client.SetMyCommands(ctx, Commands(c.Catalog)); err != nil {
		log.Warn("setMyCommands failed; the command menu keeps its old texts", "err", err)
	}
	ch := &Channel{Client: client, Webhook: webhook, polling: s.Mode == "polling", log: log}
	started := []any{"mode", s.Mode, "bot", "@" + client.Username()}
	switch {
	case !ch.polling && c.PublicBaseURL != "":
		url := WebhookURL(c.PublicBaseURL)
		if err := client.SetWebhook(ctx, url, secret, Updates(), MaxConnections); err != nil {
			return nil, fmt.Errorf("setWebhook with PUBLIC_BASE_URL: %w", err)
		}
		started = append(started, "webhook_url", url, "registered", true)
	case !ch.polling:
		// Registered by hand, or by another process that has PUBLIC_BASE_URL.
		started = append(started, "webhook_url", WebhookPath, "registered", false)
	}
	// The one line that says the channel runs, and how: an operator reads the mode, the
	// bot and the webhook off it.
	log.Info("channel started", started...)
	return ch, nil
}

// Polling reports whether updates come from Poll rather than the webhook.
func (ch *Channel) Polling() bool { return ch.polling }

// Poll runs polling mode until ctx ends (see the package's Poll).
func (ch *Channel) Poll(ctx context.Context) {
	if err := Poll(ctx, ch.Client, ch.Webhook, PollTimeout); err != nil && ctx.Err() == nil {
		ch.log.Error("polling stopped", "err", err)
	}
}
