package zalo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// Default base URLs of Zalo's APIs.
const (
	DefaultAPIBase   = "https://openapi.zalo.me"
	DefaultOAuthBase = "https://oauth.zaloapp.com"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	AppID     string // ZALO_APP_ID. Required.
	AppSecret string // ZALO_APP_SECRET: sent as secret_key to refresh tokens. Required.
	// APIBase, OAuthBase and ZNSBase default to Zalo's; tests point them at zalotest.
	APIBase   string
	OAuthBase string
	ZNSBase   string
	// Tokens holds the token pair shared by every gateway process. Required.
	Tokens TokenStore
	// AccessToken and RefreshToken (ZALO_ACCESS_TOKEN, ZALO_REFRESH_TOKEN) seed an empty
	// store; a stored pair wins over them.
	AccessToken  string
	RefreshToken string
	HTTP         *http.Client // nil: a client with a 30-second timeout
	Logger       *slog.Logger
	// Catalog holds the texts the adapter adds to replies (the line asking for a phone
	// number). Required.
	Catalog *locales.Catalog
	Now     func() time.Time
	// RefreshAhead refreshes the access token when it ends within this time (1 hour).
	RefreshAhead time.Duration
	// LockTTL bounds how long a crashed process holds the refresh lock (15 seconds).
	LockTTL time.Duration
	// RefreshWait is how long a send waits for another process's refresh (5 seconds).
	RefreshWait time.Duration
}

// Client sends consultation messages through the OA API. It implements bot.Sender.
type Client struct {
	appID, appSecret   string
	apiBase, oauthBase string
	znsBase            string
	tokens             TokenStore
	seed               Token
	hc                 *http.Client
	log                *slog.Logger
	now                func() time.Time
	refreshAhead       time.Duration
	lockTTL            time.Duration
	refreshWait        time.Duration
	texts              texts
	// config says once that Zalo refuses the app's sends for its setup (configError),
	// and once when sends work again.
	config *bot.Alarm
	// template says once that Zalo refuses a program's ZNS template, and once when a
	// ZNS message goes again.
	template *bot.Alarm

	refreshing chan struct{} // one refresh at a time within the process
	mu         sync.Mutex
	failErr    error
	failAt     time.Time
	// unstored is a refreshed pair the store refused: until it is stored, this process
	// holds the only valid refresh token. storing says keepStoring is running.
	unstored *unstored
	storing  bool
	// storeMu orders the writes of refreshed pairs: a background write of an older
	// unstored pair must not land after a newer pair was stored.
	storeMu sync.Mutex
	// storeBackoff and storeBackoffMax pace keepStoring's attempts; bg tracks it so
	// tests can wait for it.
	storeBackoff, storeBackoffMax time.Duration
	bg                            sync.WaitGroup
}

var _ bot.Sender = (*Client)(nil)

// NewClient checks cfg and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	switch {
	case cfg.AppID == "":
		return nil, errors.New("zalo client: an app id is required (ZALO_APP_ID)")
	case cfg.AppSecret == "":
		return nil, errors.New("zalo client: the app secret is required to refresh tokens (ZALO_APP_SECRET)")
	case cfg.Tokens == nil:
		return nil, errors.New("zalo client: a token store is required")
	case cfg.Catalog == nil:
		return nil, errors.New("zalo client: a locales catalog is required")
	}
	c := &Client{
		appID: cfg.AppID, appSecret: cfg.AppSecret,
		apiBase: strings.TrimRight(cfg.APIBase, "/"), oauthBase: strings.TrimRight(cfg.OAuthBase, "/"), znsBase: strings.TrimRight(cfg.ZNSBase, "/"),
		tokens: cfg.Tokens, seed: Token{Access: cfg.AccessToken, Refresh: cfg.RefreshToken}, hc: cfg.HTTP, log: cfg.Logger, now: cfg.Now,
		refreshAhead: cfg.RefreshAhead, lockTTL: cfg.LockTTL, refreshWait: cfg.RefreshWait, texts: texts{cat: cfg.Catalog},
		refreshing: make(chan struct{}, 1), storeBackoff: storeBackoff, storeBackoffMax: storeBackoffMax,
	}
	if c.apiBase == "" {
		c.apiBase = DefaultAPIBase
	}
	if c.oauthBase == "" {
		c.oauthBase = DefaultOAuthBase
	}
	if c.znsBase == "" {
		c.znsBase = DefaultZNSBase
	}
	for name, base := range map[string]string{"API base": c.apiBase, "OAuth base": c.oauthBase, "ZNS base": c.znsBase} {
		if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("zalo client: %s %q: want an absolute http(s) URL", name, base)
		}
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "zalo")
	if c.now == nil {
		c.now = time.Now
	}
	c.config = bot.NewAlarm(c.log, slog.LevelError, c.now)
	c.template = bot.NewAlarm(c.log, slog.LevelError, c.now)
	if c.refreshAhead <= 0 {
		c.refreshAhead = DefaultRefreshAhead
	}
	if c.lockTTL <= 0 {
		c.lockTTL = DefaultLockTTL
	}
	if c.refreshWait <= 0 {
		c.refreshWait = DefaultRefreshWait
	}
	return c, nil
}

// Send draws one reply as consultation messages and sends them, or, for an Outbound
// that carries a ZNS message, sends that instead (SendTemplate).
//
// Rendering: plain text (the API has no markup); choices as a numbered list under the
// text, which the flows accept back as the number, the label, or the label without
// diacritics; a contact request adds a line saying to type the number, since a
// consultation message has no share button. Text over 2,000 characters is split at
// paragraph, sentence or word boundaries. A failure after some parts went out makes a
// retry send those parts again: the price of one queue entry per reply.
func (c *Client) Send(ctx context.Context, o bot.Outbound) error {
	if o.Conversation.Channel != bot.Zalo || !validUserID(o.Conversation.ID) {
		return &bot.SendError{Failure: bot.Permanent, Detail: "not a zalo user: " + bot.MaskID(o.Conversation.Key())}
	}
	if z := o.ZNS; z != nil {
		err := c.SendTemplate(ctx, z.Phone, z.TemplateID, z.Data, TrackingID(o.ID))
		if err != nil {
			// Not the outbound id: a broadcast's names the conversation in full.
			c.log.Debug("zns send failed", "conversation", bot.MaskID(o.Conversation.Key()), "err", err)
		}
		return err
	}
	if strings.TrimSpace(o.Reply.Text) == "" {
		return &bot.SendError{Failure: bot.Permanent, Detail: "reply " + o.ID + " has no text"}
	}
	for i, part := range c.texts.render(o.Reply, o.Lang) {
		if err := c.sendText(ctx, o.Conversation.ID, part); err != nil {
			c.log.Debug("send failed", "conversation", bot.MaskID(o.Conversation.Key()), "outbound", o.ID, "part", i, "err", err)
			return err
		}
	}
	return nil
}

// sendText sends one consultation message.
func (c *Client) sendText(ctx context.Context, userID, text string) error {
	return c.withToken(ctx, tokenRefused, func(access string) error { return c.postCS(ctx, access, userID, text) })
}

// withToken calls post with the access token, refreshing it and calling post once more
// when Zalo answers a code that refused says means an invalid or expired token.
func (c *Client) withToken(ctx context.Context, refused func(code int) bool, post func(access string) error) error {
	tok, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	err = post(tok.Access)
	var se *bot.SendError
	if !errors.As(err, &se) || !refused(se.Code) {
		return err
	}
	c.log.Info("zalo refused the access token; refreshing", "code", se.Code)
	nt, rerr := c.refresh(ctx, tok)
	if rerr != nil {
		return wait(rerr, c.retryAfter(rerr))
	}
	err = post(nt.Access)
	if errors.As(err, &se) && refused(se.Code) {
		// A fresh token refused at once: not something waiting fixes quickly.
		se.Failure, se.RetryAfter = bot.Retryable, 0
	}
	return err
}

// csRequest is the body of a consultation text message.
type csRequest struct {
	Recipient struct {
		UserID string `json:"user_id"`
	} `json:"recipient"`
	Message struct {
		Text string `json:"text"`
	} `json:"message"`
}

// apiAnswer is the OA API's answer. Errors come with HTTP 200 too.
type apiAnswer struct {
	Error   *int   `json:"error"`
	Message string `json:"message"`
}

// postCS posts one consultation message with the access token.
func (c *Client) postCS(ctx context.Context, access, userID, text string) error {
	var body csRequest
	body.Recipient.UserID = userID
	body.Message.Text = text
	b, err := json.Marshal(body)
	if err != nil {
		return &bot.SendError{Failure: bot.Permanent, Detail: "encode message", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiBase+"/v3.0/oa/message/cs", bytes.NewReader(b))
	if err != nil {
		return &bot.SendError{Failure: bot.Permanent, Detail: "build request", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("access_token", access)
	resp, err := c.hc.Do(req)
	if err != nil {
		return &bot.SendError{Failure: bot.Retryable, Detail: "network error", Err: scrubURL(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &bot.SendError{Failure: bot.Retryable, Code: resp.StatusCode, Detail: "answer cut short", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return httpFailure(resp.StatusCode)
	}
	var a apiAnswer
	if err := json.Unmarshal(raw, &a); err != nil || a.Error == nil {
		return &bot.SendError{Failure: bot.Retryable, Code: resp.StatusCode, Detail: "unreadable answer"}
	}
	if *a.Error != 0 {
		if configError(*a.Error) {
			c.config.Raise("zalo refuses the app's messages: the app or the OA needs fixing in Zalo's consoles; "+
				"replies wait meanwhile, further refusals are counted", "code", *a.Error, "message", a.Message)
		}
		return apiFailure(*a.Error, a.Message, c.now())
	}
	c.config.Clear("zalo accepts the app's messages again")
	return nil
}

// scrubURL drops the request URL from a transport error. Zalo's URLs carry no token
// (it travels in a header), but the error then reads the same for every base URL.
func scrubURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
