package main

import (
	"context"
	"net/http"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/integrations/telegram"
	"github.com/sangkien/sangkien/lifecycle"
	"github.com/sangkien/sangkien/metrics"
)

// startTelegram sets the Telegram channel up, mounts its webhook on mux (webhook mode)
// or starts polling, and starts its dispatcher and album sweeper, adding each to parts.
// It returns the client, or nil when no token is set. m counts its events and sends.
func (g *gateway) startTelegram(ctx context.Context, cfg config, mux *http.ServeMux, parts *lifecycle.Parts, m *metrics.Metrics) (*telegram.Client, error) {
	tc := cfg.Telegram
	if tc.Token == "" {
		return nil, nil
	}
	ch, err := telegram.Setup(ctx, telegram.SetupConfig{
		Settings: tc, Handler: m.Events(g.engine), Albums: g.store.Albums(), Catalog: g.catalog,
		PublicBaseURL: cfg.PublicBaseURL, Logger: g.log,
	})
	if err != nil {
		return nil, err
	}
	d, err := g.dispatcher(bot.DispatcherConfig{
		Channel: bot.Telegram, Sender: m.Sender(ch.Client),
		Limit: tc.Bulk.N, Window: tc.Bulk.Per, ReplyLimit: tc.Replies.N, ReplyWindow: tc.Replies.Per,
		ChatInterval: tc.ChatInterval, ChatBurst: telegram.ChatBurst, BulkQuiet: cfg.Broadcast.Quiet,
	})
	if err != nil {
		return nil, err
	}
	parts.Run("telegram dispatcher", func(ctx context.Context) { _ = d.Run(ctx) })
	// Every process sweeps: albums whose parts reached other processes, or whose
	// process died, are handed over all the same.
	parts.Run("telegram albums", ch.Webhook.RunAlbums)
	// Once no more updates arrive, the webhook's background calls finish; albums still
	// gathering stay in Redis for the other processes, or this one after a restart.
	parts.Add("telegram webhook", func(ctx context.Context) error {
		if err := ch.Webhook.Close(ctx); err != nil {
			g.log.Warn("closing the webhook", "component", "telegram", "err", err)
		}
		return nil
	})
	if ch.Polling() {
		parts.Run("telegram polling", ch.Poll)
	} else {
		mux.Handle("POST "+telegram.WebhookPath, m.Webhook(bot.Telegram, g.guard.Wrap("telegram", ch.Webhook)))
	}
	return ch.Client, nil
}

// dispatcher builds a channel's dispatcher from its channel, sender and limits: the
// two lanes (replies and bulk, as this process sees them), the shared limiter and the
// engine (told of citizens who are gone) and the broadcasts' gate are the same for
// every channel.
func (g *gateway) dispatcher(c bot.DispatcherConfig) (*bot.Dispatcher, error) {
	name, opt := consumerID(), redisstore.SenderOptions{Logger: g.log}
	c.Queue = g.store.Delivery().Sender(c.Channel, name, opt)
	c.Bulk = g.store.Bulk().Sender(c.Channel, name, opt)
	c.Limiter, c.Logger, c.Events = g.store.Delivery(), g.log, g.engine
	c.Gate = &broadcast.Gate{Store: g.store, Programs: g.programs}
	return bot.NewDispatcher(c)
}
