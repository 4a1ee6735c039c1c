package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/telegram"
)

// startTelegram builds the Telegram channel, mounts its webhook on mux (webhook mode)
// or starts polling, and starts its dispatcher and album sweeper, adding each to parts.
// It returns the client, or nil when no token is set.
func (g *gateway) startTelegram(ctx context.Context, cfg config, mux *http.ServeMux, parts *components) (*telegram.Client, error) {
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
		secret = telegram.PollingSecret()
	}
	webhook, err := telegram.NewWebhook(telegram.Config{
		Secret: secret, Client: client, Handler: g.engine, Albums: g.store.Albums(),
		Logger: g.log, BotUsername: client.Username(),
	})
	if err != nil {
		return nil, fmt.Errorf("TELEGRAM_WEBHOOK_SECRET: %w", err)
	}
	if err := client.SetMyCommands(ctx, telegram.Commands(g.catalog)); err != nil {
		log.Warn("setMyCommands failed; the command menu keeps its old texts", "err", err)
	}
	d, err := g.dispatcher(bot.DispatcherConfig{
		Channel: bot.Telegram, Sender: client,
		Limit: telegram.BotLimit, Window: telegram.BotWindow, ChatInterval: tc.ChatInterval, ChatBurst: telegram.ChatBurst,
	})
	if err != nil {
		return nil, err
	}
	parts.run("telegram dispatcher", func(ctx context.Context) { _ = d.Run(ctx) })
	// Every process sweeps: albums whose parts reached other processes, or whose
	// process died, are handed over all the same.
	parts.run("telegram albums", webhook.RunAlbums)
	// Once no more updates arrive, the webhook's background calls finish; albums still
	// gathering stay in Redis for the other processes, or this one after a restart.
	parts.add("telegram webhook", webhook.Close)
	if tc.Mode == "polling" {
		parts.run("telegram polling", func(ctx context.Context) {
			if err := telegram.Poll(ctx, client, webhook, telegram.PollTimeout); err != nil && ctx.Err() == nil {
				log.Error("polling stopped", "err", err)
			}
		})
		return client, nil
	}
	mux.Handle("POST "+telegram.WebhookPath, webhook)
	if cfg.PublicBaseURL != "" {
		url := telegram.WebhookURL(cfg.PublicBaseURL)
		if err := client.SetWebhook(ctx, url, secret, telegram.Updates(), telegram.MaxConnections); err != nil {
			return nil, fmt.Errorf("setWebhook with PUBLIC_BASE_URL: %w", err)
		}
		log.Info("webhook registered", "url", url)
	}
	return client, nil
}

// dispatcher builds a channel's dispatcher from its channel, sender and limits: the
// queue, the shared limiter, this process's name and the unreachable mark are the same
// for every channel.
func (g *gateway) dispatcher(c bot.DispatcherConfig) (*bot.Dispatcher, error) {
	c.Queue, c.Limiter = g.store.Delivery(), g.store.Delivery()
	c.Consumer, c.Logger, c.Gone = consumerID(), g.log, g.markUnreachable
	return bot.NewDispatcher(c)
}

// markUnreachable runs an unfollow event through the engine, as if the citizen had
// blocked the bot themselves: the flows mark them unreachable, and a later message
// from them makes them reachable again. The event id is derived from the reply, so a
// retried mark is a duplicate.
func (g *gateway) markUnreachable(ctx context.Context, o bot.Outbound) error {
	_, err := g.engine.Handle(ctx, bot.Event{
		ID: "gone:" + o.ID, Conversation: o.Conversation, Kind: bot.EventUnfollow, At: time.Now(),
	})
	return err
}
