package main

import (
	"context"
	"net/http"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/zalo"
	"github.com/sangkien/sangkien/lifecycle"
	"github.com/sangkien/sangkien/metrics"
)

// startZalo sets the Zalo channel up, mounts its webhook on mux and starts its dispatcher,
// adding it to parts; m counts its events and sends. It reports whether the channel runs.
func (g *gateway) startZalo(ctx context.Context, cfg config, mux *http.ServeMux, parts *lifecycle.Parts, m *metrics.Metrics) (bool, error) {
	zc := cfg.Zalo
	if !zc.Enabled() {
		return false, nil
	}
	ch, err := zalo.Setup(ctx, zalo.SetupConfig{
		Settings: zc, Tokens: g.store.ZaloTokens(), Handler: m.Events(g.engine), Inbox: g.store.Inbox("zalo", 0), Catalog: g.catalog,
		PublicBaseURL: cfg.PublicBaseURL, Logger: g.log,
	})
	if err != nil {
		return false, err
	}
	mux.Handle("POST "+zalo.WebhookPath, m.Webhook(bot.Zalo, g.guard.Wrap("zalo", ch.Webhook)))
	parts.Run("zalo inbox", func(ctx context.Context) { _ = ch.Webhook.Run(ctx) })
	d, err := g.dispatcher(bot.DispatcherConfig{
		Channel: bot.Zalo, Sender: m.Sender(ch.Client),
		// Zalo's quota counts every request of the app: replies and bulk share it.
		Limit: zalo.AppLimit, Window: zalo.AppWindow, OneLimit: true, ChatInterval: zc.ChatInterval, ChatBurst: zalo.ChatBurst,
		BulkQuiet: cfg.Broadcast.Quiet,
	})
	if err != nil {
		return false, err
	}
	parts.Run("zalo dispatcher", func(ctx context.Context) { _ = d.Run(ctx) })
	return true, nil
}
