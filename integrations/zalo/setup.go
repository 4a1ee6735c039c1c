package zalo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// This file is what a gateway needs to set the channel up: its settings and their
// checks, Zalo's limits, the webhook's address and the token pair it starts with.

// Settings is the channel's configuration, read from the environment by the gateway.
type Settings struct {
	AppID        string // ZALO_APP_ID
	AppSecret    string // ZALO_APP_SECRET
	OASecret     string // ZALO_OA_SECRET
	AccessToken  string // ZALO_ACCESS_TOKEN
	RefreshToken string // ZALO_REFRESH_TOKEN
	APIBase      string // ZALO_API_BASE
	OAuthBase    string // ZALO_OAUTH_BASE
	ZNSBase      string // ZALO_ZNS_BASE
	// ChatInterval is the least time between messages to one citizen; bursts of
	// ChatBurst are allowed.
	ChatInterval time.Duration
	// FileHosts are the hosts the media proxy may download citizens' Zalo files from.
	FileHosts []string
}

// Enabled reports whether the channel runs: it needs the app id and the OA secret that
// signs its webhook.
func (s Settings) Enabled() bool { return s.AppID != "" || s.OASecret != "" }

// Check reports what is wrong with s; every error names its variable.
func (s Settings) Check() error {
	if !s.Enabled() {
		if s.AppSecret != "" || s.AccessToken != "" || s.RefreshToken != "" {
			return errors.New("ZALO_APP_ID: required when other ZALO_ secrets are set (and ZALO_OA_SECRET with it)")
		}
		return nil
	}
	switch {
	case s.AppID == "":
		return errors.New("ZALO_APP_ID: required with ZALO_OA_SECRET")
	case !digits(s.AppID):
		return fmt.Errorf("ZALO_APP_ID=%q: want the app's numeric id", s.AppID)
	case s.OASecret == "":
		return errors.New("ZALO_OA_SECRET: required with ZALO_APP_ID, so that only Zalo can post events")
	case s.AppSecret == "":
		return errors.New("ZALO_APP_SECRET: required with ZALO_APP_ID, to refresh access tokens")
	case (s.AccessToken == "") != (s.RefreshToken == ""):
		return errors.New("ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN: set both (one pair from the OA's authorization) or neither")
	}
	for name, base := range map[string]string{"ZALO_API_BASE": s.APIBase, "ZALO_OAUTH_BASE": s.OAuthBase, "ZALO_ZNS_BASE": s.ZNSBase} {
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
	AppLimit  = 4000
	AppWindow = time.Minute
	ChatBurst = 3
)

// WebhookPath is where the gateway serves the webhook.
const WebhookPath = "/webhooks/zalo"

// WebhookURL is the webhook's public address under the gateway's public base URL, to
// be registered for the OA in the Zalo developer console.
func WebhookURL(publicBase string) string {
	return strings.TrimRight(publicBase, "/") + WebhookPath
}

// CheckTokens seeds the token store from s and refuses to start when there is no pair
// at all: every reply would wait forever. A store that does not answer now is only a
// warning; the first send seeds it.
func CheckTokens(ctx context.Context, client *Client, s Settings, log *slog.Logger) error {
	seeded, err := client.Seed(ctx)
	if err != nil {
		log.Warn("zalo token store unavailable at start; the first send seeds it", "err", err)
		return nil
	}
	switch {
	case seeded:
		log.Info("zalo token pair taken from ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN")
	case s.RefreshToken != "":
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

// Channel is the channel as a gateway runs it: the client that sends and the webhook
// that receives.
type Channel struct {
	Client  *Client
	Webhook *Webhook
}

// SetupConfig is what Setup builds the channel from.
type SetupConfig struct {
	Settings Settings
	Tokens   TokenStore
	Handler  Handler
	Inbox    Inbox            // keeps verified events until run (redisstore's Inbox)
	Catalog  *locales.Catalog // the adapter's own texts
	// PublicBaseURL, when set, is logged as the webhook URL to register for the OA.
	PublicBaseURL string
	Logger        *slog.Logger
}

// Setup builds the client and the webhook and checks the token pair (CheckTokens).
// Serve the webhook at WebhookPath and run Webhook.Run until the gateway stops.
func Setup(ctx context.Context, c SetupConfig) (*Channel, error) {
	s := c.Settings
	log := c.Logger.With("component", "zalo")
	client, err := NewClient(ClientConfig{
		AppID: s.AppID, AppSecret: s.AppSecret, APIBase: s.APIBase, OAuthBase: s.OAuthBase, ZNSBase: s.ZNSBase,
		Tokens: c.Tokens, AccessToken: s.AccessToken, RefreshToken: s.RefreshToken,
		HTTP: apiClient(), Catalog: c.Catalog, Logger: c.Logger,
	})
	if err != nil {
		return nil, err
	}
	if err := CheckTokens(ctx, client, s, log); err != nil {
		return nil, err
	}
	// Which OA the tokens belong to, for the start-up line only: a Zalo that does not
	// say is no reason not to start.
	oactx, cancel := context.WithTimeout(ctx, oaInfoTimeout)
	oa, err := client.oaID(oactx)
	cancel()
	if err != nil {
		log.Warn("zalo did not say which OA the tokens belong to", "err", err)
	}
	webhook, err := NewWebhook(Config{AppID: s.AppID, OASecret: s.OASecret, Handler: c.Handler, Inbox: c.Inbox,
		FileHosts: s.FileHosts, Logger: c.Logger})
	if err != nil {
		return nil, err
	}
	// The one line that says the channel runs, and how. Zalo has no webhook registration
	// call: the URL is registered for the OA in the Zalo developer console.
	url := WebhookPath
	if c.PublicBaseURL != "" {
		url = WebhookURL(c.PublicBaseURL)
	}
	log.Info("channel started; register webhook_url for the OA in the Zalo developer console",
		"mode", "webhook", "oa_id", oa, "app_id", s.AppID, "webhook_url", url)
	return &Channel{Client: client, Webhook: webhook}, nil
}

// oaInfoTimeout bounds the start's question of which OA the tokens belong to.
const oaInfoTimeout = 5 * time.Second

// oaID asks Zalo which OA the access token belongs to (GET /v2.0/oa/getoa), refreshing
// the token pair when Zalo refuses the token, as a send does.
func (c *Client) oaID(ctx context.Context) (string, error) {
	var id string
	err := c.withToken(ctx, tokenRefused, func(access string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.apiBase+"/v2.0/oa/getoa", nil)
		if err != nil {
			return &bot.SendError{Failure: bot.Permanent, Detail: "build request", Err: err}
		}
		req.Header.Set("access_token", access)
		resp, err := c.hc.Do(req)
		if err != nil {
			return &bot.SendError{Failure: bot.Retryable, Detail: "network error", Err: scrubURL(err)}
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return httpFailure(resp.StatusCode)
		}
		var a struct {
			apiAnswer
			Data struct {
				OAID json.RawMessage `json:"oa_id"` // a string; a number would do too
			} `json:"data"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&a); err != nil || a.Error == nil {
			return &bot.SendError{Failure: bot.Retryable, Code: resp.StatusCode, Detail: "unreadable answer"}
		}
		if *a.Error != 0 {
			return apiFailure(*a.Error, a.Message, c.now())
		}
		id = strings.Trim(string(a.Data.OAID), `"`)
		return nil
	})
	return id, err
}

// apiClient is the HTTP client of the OA API: its connections are kept for reuse, as
// many as the sends in flight need (net/http's default keeps two per host).
func apiClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}
