package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/telegram"
	"github.com/sangkien/sangkien/locales"
)

// telegramConfig is the Telegram part of config.
type telegramConfig struct {
	Token    string
	Secret   string
	Endpoint string
	Mode     string // "webhook" or "polling"
	// ChatInterval is the least time between messages to one chat (Telegram asks for
	// about one a second); bursts of telegramChatBurst are allowed.
	ChatInterval time.Duration
}

func (c telegramConfig) check() error {
	if c.Mode != "webhook" && c.Mode != "polling" {
		return fmt.Errorf("TELEGRAM_MODE=%q: want webhook or polling", c.Mode)
	}
	if c.Token == "" {
		return nil
	}
	if c.Mode == "webhook" && c.Secret == "" {
		return errors.New("TELEGRAM_WEBHOOK_SECRET: required in webhook mode, so that only Telegram can post updates")
	}
	if !strings.Contains(c.Endpoint, "%s") {
		return fmt.Errorf("TELEGRAM_API_ENDPOINT=%q: want go-telegram-bot-api's format, e.g. %s", c.Endpoint, telegram.DefaultEndpoint)
	}
	return nil
}

// Telegram's limits: 30 messages a second per bot, about one a second per chat. The
// window is a little longer than a second so that network jitter between the limiter
// and Telegram cannot squeeze a 31st message into Telegram's own one-second count.
const (
	telegramLimit       = 30
	telegramWindow      = time.Second + 100*time.Millisecond
	telegramChatBurst   = 3
	telegramMaxConns    = 40
	telegramPollTimeout = 30
)

// telegramUpdates are the update kinds the gateway asks Telegram for.
var telegramUpdates = []string{"message", "edited_message", "callback_query", "my_chat_member"}

// telegramChannel is the running Telegram channel: webhook (or poller) in, dispatcher out.
type telegramChannel struct {
	client  *telegram.Client
	webhook *telegram.Webhook
	log     *slog.Logger
	wg      sync.WaitGroup
}

// startTelegram builds the Telegram channel, mounts its webhook on mux (webhook mode)
// or starts polling, and starts its dispatcher. It returns nil when no token is set.
// Everything it starts stops when ctx ends; wait with stop.
func (g *gateway) startTelegram(ctx context.Context, cfg config, mux *http.ServeMux) (*telegramChannel, error) {
	tc := cfg.Telegram
	if tc.Token == "" {
		return nil, nil
	}
	// The adapter names its own component in its log lines; log here is for ours.
	log := g.log.With("component", "telegram")
	client, err := telegram.NewClient(tc.Token, tc.Endpoint, &http.Client{Timeout: 60 * time.Second}, g.log)
	if err != nil {
		return nil, fmt.Errorf("TELEGRAM_BOT_TOKEN: %w", err)
	}
	secret := tc.Secret
	if tc.Mode == "polling" && secret == "" {
		secret = randomSecret() // the webhook handler is not mounted; Process is used directly
	}
	webhook, err := telegram.NewWebhook(telegram.Config{
		Secret: secret, Client: client, Handler: g.engine, Albums: g.store.Albums(),
		Logger: g.log, BotUsername: client.Username(),
	})
	if err != nil {
		return nil, fmt.Errorf("TELEGRAM_WEBHOOK_SECRET: %w", err)
	}
	ch := &telegramChannel{client: client, webhook: webhook, log: log}
	if err := client.SetMyCommands(ctx, telegramCommands(g.catalog)); err != nil {
		log.Warn("setMyCommands failed; the command menu keeps its old texts", "err", err)
	}
	switch {
	case tc.Mode == "polling":
		ch.wg.Go(func() {
			if err := telegram.Poll(ctx, client, webhook, telegramPollTimeout); err != nil && ctx.Err() == nil {
				log.Error("polling stopped", "err", err)
			}
		})
	default:
		mux.Handle("POST /webhooks/telegram", webhook)
		if cfg.PublicBaseURL != "" {
			url := strings.TrimRight(cfg.PublicBaseURL, "/") + "/webhooks/telegram"
			if err := client.SetWebhook(ctx, url, secret, telegramUpdates, telegramMaxConns); err != nil {
				return nil, fmt.Errorf("setWebhook with PUBLIC_BASE_URL: %w", err)
			}
			log.Info("webhook registered", "url", url)
		}
	}
	d, err := g.dispatcher(bot.DispatcherConfig{
		Channel: bot.Telegram, Sender: client,
		Limit: telegramLimit, Window: telegramWindow, ChatInterval: tc.ChatInterval, ChatBurst: telegramChatBurst,
	})
	if err != nil {
		return nil, err
	}
	ch.wg.Go(func() { _ = d.Run(ctx) })
	// Every process sweeps: albums whose parts reached other processes, or whose
	// process died, are handed over all the same.
	ch.wg.Go(func() { webhook.RunAlbums(ctx) })
	return ch, nil
}

// drain stops the album sweeper and waits for the webhook's background calls; call it
// once no more updates arrive. Albums still gathering stay in Redis for the sweepers of
// the other processes, or of this one after a restart.
func (c *telegramChannel) drain(ctx context.Context) {
	if c == nil {
		return
	}
	if err := c.webhook.Close(ctx); err != nil {
		c.log.Warn("closing the webhook", "err", err)
	}
}

// wait waits for the poller and the dispatcher, which stop with the context given to
// startTelegram.
func (c *telegramChannel) wait() {
	if c != nil {
		c.wg.Wait()
	}
}

// dispatcher builds a channel's dispatcher from its channel, sender and limits: the
// queue, the shared limiter, this process's name and the engine (told of citizens who
// are gone) are the same for every channel.
func (g *gateway) dispatcher(c bot.DispatcherConfig) (*bot.Dispatcher, error) {
	c.Queue, c.Limiter = g.store.Delivery(), g.store.Delivery()
	c.Consumer, c.Logger, c.Events = consumerID(), g.log, g.engine
	return bot.NewDispatcher(c)
}

// telegramCommands is the bot's command menu in Vietnamese (the default) and English.
func telegramCommands(cat *locales.Catalog) map[string][]telegram.Command {
	out := map[string][]telegram.Command{}
	for code, lang := range map[string]string{"": locales.VI, "en": locales.EN} {
		l := cat.For(lang)
		out[code] = []telegram.Command{
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

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
