package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/integrations/media"
	"github.com/sangkien/sangkien/integrations/zalo"
)

// The Redis token keeper is the Zalo client's token store.
var _ zalo.TokenStore = (*redisstore.ZaloTokens)(nil)

// zaloConfig is the Zalo part of config.
type zaloConfig struct {
	AppID        string
	AppSecret    string
	OASecret     string
	AccessToken  string
	RefreshToken string
	APIBase      string
	OAuthBase    string
	// ChatInterval is the least time between messages to one citizen; bursts of
	// zaloChatBurst are allowed.
	ChatInterval time.Duration
	// FileHosts are the hosts the media proxy may download citizens' Zalo files from.
	FileHosts []string
}

// readZaloConfig reads the ZALO_* variables; errors go to r.
func readZaloConfig(r *reader) zaloConfig {
	c := zaloConfig{
		AppID:        r.get("ZALO_APP_ID"),
		AppSecret:    r.get("ZALO_APP_SECRET"),
		OASecret:     r.get("ZALO_OA_SECRET"),
		AccessToken:  r.get("ZALO_ACCESS_TOKEN"),
		RefreshToken: r.get("ZALO_REFRESH_TOKEN"),
		APIBase:      r.get("ZALO_API_BASE"),
		OAuthBase:    r.get("ZALO_OAUTH_BASE"),
		FileHosts:    strings.Split(r.get("ZALO_FILE_HOSTS"), ","),
	}
	interval := r.get("ZALO_CHAT_INTERVAL")
	if d, err := time.ParseDuration(interval); err != nil || d < 0 {
		r.fail(fmt.Errorf("ZALO_CHAT_INTERVAL=%q: want a duration such as 1s", interval))
	} else {
		c.ChatInterval = d
	}
	return c
}

// enabled reports whether the Zalo channel runs: it needs the app id and the OA secret
// that signs its webhook.
func (c zaloConfig) enabled() bool { return c.AppID != "" || c.OASecret != "" }

func (c zaloConfig) check() error {
	if !c.enabled() {
		if c.AppSecret != "" || c.AccessToken != "" || c.RefreshToken != "" {
			return errors.New("ZALO_APP_ID: required when other ZALO_ secrets are set (and ZALO_OA_SECRET with it)")
		}
		return nil
	}
	switch {
	case c.AppID == "":
		return errors.New("ZALO_APP_ID: required with ZALO_OA_SECRET")
	case !digits(c.AppID):
		return fmt.Errorf("ZALO_APP_ID=%q: want the app's numeric id", c.AppID)
	case c.OASecret == "":
		return errors.New("ZALO_OA_SECRET: required with ZALO_APP_ID, so that only Zalo can post events")
	case c.AppSecret == "":
		return errors.New("ZALO_APP_SECRET: required with ZALO_APP_ID, to refresh access tokens")
	case (c.AccessToken == "") != (c.RefreshToken == ""):
		return errors.New("ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN: set both (one pair from the OA's authorization) or neither")
	}
	for name, base := range map[string]string{"ZALO_API_BASE": c.APIBase, "ZALO_OAUTH_BASE": c.OAuthBase} {
		if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s=%q: want an absolute http(s) URL", name, base)
		}
	}
	return nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Zalo's limits: 4,000 OA API requests a minute per app, shared by every process
// through the delivery queue's limiter.
const (
	zaloLimit     = 4000
	zaloWindow    = time.Minute
	zaloChatBurst = 3
)

// zaloChannel is the running Zalo channel: webhook in, dispatcher out.
type zaloChannel struct {
	client    *zalo.Client
	fileHosts []string
	log       *slog.Logger
	wg        sync.WaitGroup
}

// startZalo builds the Zalo channel, mounts its webhook on mux and starts its
// dispatcher. It returns nil when the channel is not configured. The dispatcher stops
// when ctx ends; wait with wait.
func (g *gateway) startZalo(ctx context.Context, cfg config, mux *http.ServeMux) (*zaloChannel, error) {
	zc := cfg.Zalo
	if !zc.enabled() {
		return nil, nil
	}
	log := g.log.With("component", "zalo")
	client, err := zalo.NewClient(zalo.ClientConfig{
		AppID: zc.AppID, AppSecret: zc.AppSecret, APIBase: zc.APIBase, OAuthBase: zc.OAuthBase,
		Tokens: g.store.ZaloTokens(), AccessToken: zc.AccessToken, RefreshToken: zc.RefreshToken,
		HTTP: &http.Client{Timeout: 30 * time.Second}, Logger: g.log, Catalog: g.catalog,
	})
	if err != nil {
		return nil, err
	}
	if err := checkZaloTokens(ctx, client, zc, log); err != nil {
		return nil, err
	}
	webhook, err := zalo.NewWebhook(zalo.Config{AppID: zc.AppID, OASecret: zc.OASecret, Handler: g.engine, Logger: g.log})
	if err != nil {
		return nil, err
	}
	mux.Handle("POST /webhooks/zalo", webhook)
	if cfg.PublicBaseURL != "" {
		log.Info("register this webhook URL for the OA in the Zalo developer console",
			"url", strings.TrimRight(cfg.PublicBaseURL, "/")+"/webhooks/zalo")
	}
	d, err := g.dispatcher(bot.DispatcherConfig{
		Channel: bot.Zalo, Sender: client,
		Limit: zaloLimit, Window: zaloWindow, ChatInterval: zc.ChatInterval, ChatBurst: zaloChatBurst,
	})
	if err != nil {
		return nil, err
	}
	ch := &zaloChannel{client: client, fileHosts: zc.FileHosts, log: log}
	ch.wg.Go(func() { _ = d.Run(ctx) })
	return ch, nil
}

// checkZaloTokens seeds the token store from the environment and refuses to start when
// there is no pair at all: every reply would wait forever. A Redis that does not answer
// now is only a warning; the first send seeds it.
func checkZaloTokens(ctx context.Context, client *zalo.Client, zc zaloConfig, log *slog.Logger) error {
	seeded, err := client.Seed(ctx)
	if err != nil {
		log.Warn("zalo token store unavailable at start; the first send seeds it", "err", err)
		return nil
	}
	switch {
	case seeded:
		log.Info("zalo token pair taken from ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN")
	case zc.RefreshToken != "":
		log.Info("zalo token pair already stored; ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN are not used")
	}
	stored, err := client.Stored(ctx)
	if err != nil {
		log.Warn("zalo token store unavailable at start", "err", err)
		return nil
	}
	if !stored {
		return errors.New("ZALO_REFRESH_TOKEN: no Zalo token pair in Redis and none given: " +
			"set ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN from the OA's authorization")
	}
	return nil
}

// addFetcher adds the Zalo media fetcher to fetchers, when the channel runs: the media
// proxy downloads citizens' Zalo files from their URL, which needs no token.
func (c *zaloChannel) addFetcher(fetchers map[bot.Channel]media.Fetcher) map[bot.Channel]media.Fetcher {
	if c != nil {
		files := zalo.FileURLs{Hosts: c.fileHosts}
		fetchers[bot.Zalo] = media.URLFetcher{Resolve: files.Resolve, Allow: files.Allowed}
	}
	return fetchers
}

// wait waits for the dispatcher, which stops with the context given to startZalo.
func (c *zaloChannel) wait() {
	if c != nil {
		c.wg.Wait()
	}
}
