package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/envvar"
	"github.com/sangkien/sangkien/integrations/zalo"
)

// The Redis token keeper is the Zalo client's token store, and the Redis inbox keeps
// its webhook's events until they are run.
var (
	_ zalo.TokenStore = (*redisstore.ZaloTokens)(nil)
	_ zalo.Inbox      = (*redisstore.Inbox)(nil)
)

// startZalo sets the Zalo channel up, mounts its webhook on mux and starts its
// dispatcher, adding it to parts. It reports whether the channel runs.
func (g *gateway) startZalo(ctx context.Context, cfg config, mux *http.ServeMux, parts *components) (bool, error) {
	zc := cfg.Zalo
	if !zc.Enabled() {
		return false, nil
	}
	ch, err := zalo.Setup(ctx, zalo.SetupConfig{
		Settings: zc, Tokens: g.store.ZaloTokens(), Handler: g.engine, Inbox: g.store.Inbox("zalo", 0), Catalog: g.catalog,
		PublicBaseURL: cfg.PublicBaseURL, Logger: g.log,
	})
	if err != nil {
		return false, err
	}
	mux.Handle("POST "+zalo.WebhookPath, ch.Webhook)
	parts.run("zalo inbox", func(ctx context.Context) { _ = ch.Webhook.Run(ctx) })
	d, err := g.dispatcher(bot.DispatcherConfig{
		Channel: bot.Zalo, Sender: ch.Client,
		// Zalo's quota counts every request of the app: replies and bulk share it.
		Limit: zalo.AppLimit, Window: zalo.AppWindow, OneLimit: true, ChatInterval: zc.ChatInterval, ChatBurst: zalo.ChatBurst,
		BulkQuiet: cfg.BulkQuiet,
	})
	if err != nil {
		return false, err
	}
	parts.run("zalo dispatcher", func(ctx context.Context) { _ = d.Run(ctx) })
	return true, nil
}

// readZaloConfig reads the ZALO_* variables; errors go to r.
func readZaloConfig(r *envvar.Reader) zalo.Settings {
	c := zalo.Settings{
		AppID:        r.Get("ZALO_APP_ID"),
		AppSecret:    r.Get("ZALO_APP_SECRET"),
		OASecret:     r.Get("ZALO_OA_SECRET"),
		AccessToken:  r.Get("ZALO_ACCESS_TOKEN"),
		RefreshToken: r.Get("ZALO_REFRESH_TOKEN"),
		APIBase:      r.Get("ZALO_API_BASE"),
		OAuthBase:    r.Get("ZALO_OAUTH_BASE"),
		ZNSBase:      r.Get("ZALO_ZNS_BASE"),
		FileHosts:    strings.Split(r.Get("ZALO_FILE_HOSTS"), ","),
	}
	interval := r.Get("ZALO_CHAT_INTERVAL")
	if d, err := time.ParseDuration(interval); err != nil || d < 0 {
		r.Fail(fmt.Errorf("ZALO_CHAT_INTERVAL=%q: want a duration such as 1s", interval))
	} else {
		c.ChatInterval = d
	}
	return c
}
