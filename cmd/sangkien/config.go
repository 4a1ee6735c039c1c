package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/envvar"
	"github.com/sangkien/sangkien/flows"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/telegram"
	"github.com/sangkien/sangkien/integrations/zalo"
)

// config is everything the gateway reads from its environment, checked once at start.
type config struct {
	HTTPAddr      string
	RedisURL      string // secret: may carry a password
	RedisPrefix   string
	ProgramsFile  string
	LogLevel      slog.Level
	PublicBaseURL string
	Telegram      telegram.Settings
	// TelegramBulk bounds the bot's bulk messages (TELEGRAM_BULK_RATE); TelegramReplies,
	// when set, its replies too (TELEGRAM_REPLY_RATE).
	TelegramBulk, TelegramReplies envvar.Rate
	Intake                        intake.Settings // INTAKE_*, OPEN311_*
	// MediaSecret signs media links (MEDIA_SECRET); empty: a random key kept in Redis.
	MediaSecret string
	MediaTTL    time.Duration // MEDIA_LINK_TTL
	Zalo        zalo.Settings // ZALO_* (zalo.go)
	// Area is the city (CITY_BBOX): a shared point outside it is questioned.
	Area flows.Area
	// BulkQuiet is when no bulk message goes out on any channel (BULK_QUIET_HOURS).
	BulkQuiet broadcast.QuietHours
	// Reminders turns the programs' deadline reminders on (BROADCAST_REMINDERS).
	Reminders bool
	// Console is the operator console's (CONSOLE_*, console.go).
	Console consoleSettings
	// Outbox names the store's outbox (redisstore.Options.Outbox): "" for serve, "chat"
	// for the terminal. Not read from the environment.
	Outbox string
	// Later holds the variables of channels and intakes not built yet: read (so that a
	// NAME_FILE that cannot be read fails now) and kept, but unused.
	Later map[string]string
}

// envVars lists every variable the gateway reads, in the order help shows them.
var envVars = []envvar.Var{
	{Name: "HTTP_ADDR", Default: ":8080", Help: "address the HTTP server listens on (serve)"},
	{Name: "REDIS_URL", Secret: true, Help: "Redis: redis://, rediss://, unix://; a cluster with several hosts " +
		"(redis://h1:6379,h2:6379) or redis+cluster://; Sentinel with redis+sentinel://h1:26379,h2:26379/<master>. " +
		"Empty: an embedded in-process Redis that keeps nothing"},
	{Name: "REDIS_PREFIX", Default: "sk", Help: "prefix of every Redis key; gateways with different prefixes share a Redis without meeting"},
	{Name: "PROGRAMS_FILE", Help: "programs catalog (YAML); empty: the sample programs.yaml built in"},
	{Name: "INTAKE_KIND", Help: "where confirmed submissions go: json (signed JSON POST to INTAKE_URL; the default " +
		"when INTAKE_URL is set), open311 (GeoReport v2 at INTAKE_URL) or file (INTAKE_FILE; the default otherwise)"},
	{Name: "INTAKE_FILE", Default: intake.DefaultFile, Help: "JSONL file of the file intake"},
	{Name: "INTAKE_URL", Help: "the city intake: json: the URL submissions are posted to; open311: the GeoReport v2 " +
		"base URL (without /requests.json)"},
	{Name: "INTAKE_SECRET", Secret: true, Help: "HMAC key of X-Sangkien-Signature: signs submissions (required with " +
		"json) and checks POST /callbacks/intake (empty: callbacks are off)"},
	{Name: "INTAKE_API_KEY", Secret: true, Help: "open311: the api_key sent with every request"},
	{Name: "OPEN311_SERVICE_CODE", Help: "open311: the service_code of fields without one in the programs file"},
	{Name: "OPEN311_FEEDBACK_CODE", Help: "open311: the service_code of feedback (empty: OPEN311_SERVICE_CODE)"},
	{Name: "OPEN311_ADDRESS", Help: "open311: address_string sent when a submission has no place (feedback, a skipped place); " +
		"required with INTAKE_KIND=open311, since GeoReport servers refuse a request without a location"},
	{Name: "CITY_BBOX", Default: flowsBox(flows.Hanoi), Help: "the city as minLat,minLon,maxLat,maxLon (WGS84; " +
		"default Hà Nội): a shared point outside it is questioned at the location step"},
	{Name: "OPEN311_RETRY_400_FOR", Default: "24h", Help: "open311: how long a 400 (GeoReport's \"General Service Error\", " +
		"e.g. the CRM is down) is retried, from the first attempt, before the submission goes to the failed list; 0: at once"},
	{Name: "OPEN311_JURISDICTION", Help: "open311: jurisdiction_id, for servers that serve several cities"},
	{Name: "MEDIA_SECRET", Secret: true, Help: "key that signs the media links (GET /media/{id}) the intake gets for " +
		"attachments; empty: a random key made once and kept in Redis (<prefix>:key:media), shared by every process"},
	{Name: "MEDIA_LINK_TTL", Default: "168h", Help: "how long a media link works"},
	{Name: "CONSOLE_SESSION_IDLE", Default: "8h", Help: "a console session unused that long ends (it ends 12 hours " +
		"after its login in any case, or after this when longer)"},
	{Name: "CONSOLE_AUDIT_RETENTION", Default: "17520h", Help: "how long the console's audit trail keeps staff actions (default 2 years)"},
	{Name: "CONSOLE_HOLIDAYS_FILE", Help: "public holidays and make-up working days for the console's response clocks; " +
		"empty: the ones shipped for 2026 and 2027 (console/workday/holidays.txt shows the format)"},
	{Name: "LOG_LEVEL", Default: "info", Help: "debug, info, warn or error (chat: warn unless set)"},
	{Name: "PUBLIC_BASE_URL", Help: "the gateway's public https URL: webhooks, and the media links the intake gets for attachments"},
	{Name: "BULK_QUIET_HOURS", Default: broadcast.DefaultQuietHours, Help: "daily hours, Asia/Ho_Chi_Minh, when no bulk " +
		"message (broadcast, reminder) goes out on any channel, as HH:MM-HH:MM: what is queued waits for their end; " +
		"none: no quiet hours (Zalo refuses 22:00-06:00 anyway)"},
	{Name: "BROADCAST_REMINDERS", Default: "on", Help: "on: serve sends the programs' reminders (at opening, a week " +
		"and a day before the deadline); off: none (a staging gateway)"},
	{Name: "TELEGRAM_BOT_TOKEN", Secret: true, Help: "Telegram bot token; empty: no Telegram channel"},
	{Name: "TELEGRAM_WEBHOOK_SECRET", Secret: true, Help: "secret Telegram sends in X-Telegram-Bot-Api-Secret-Token " +
		"(1-256 of A-Z a-z 0-9 _ -); required in webhook mode"},
	{Name: "TELEGRAM_API_ENDPOINT", Default: telegram.DefaultEndpoint, Help: "Bot API endpoint in go-telegram-bot-api's format (a fake one in tests)"},
	{Name: "TELEGRAM_MODE", Default: "webhook", Help: "webhook (POST /webhooks/telegram; registered with setWebhook when " +
		"PUBLIC_BASE_URL is set) or polling (getUpdates, for local trials)"},
	{Name: "TELEGRAM_CHAT_INTERVAL", Default: "1s", Help: "least time between messages to one Telegram chat (bursts of 3 allowed)"},
	{Name: "TELEGRAM_BULK_RATE", Default: envvar.Rate{N: telegram.BotLimit, Per: telegram.BotWindow}.String(), Help: "limit of the bot's " +
		"bulk messages (broadcasts, reminders), shared by every gateway process: count/period, about Telegram's 30 a second " +
		"(" + paidBulkRate.String() + " with TELEGRAM_PAID_BROADCAST)"},
	{Name: "TELEGRAM_PAID_BROADCAST", Default: "false", Help: "true: bulk messages go with allow_paid_broadcast, up to " +
		"1,000 a second (TELEGRAM_BULK_RATE's default rises to match) for 0.1 Telegram Stars each, taken from the bot's " +
		"balance; replies are never paid for"},
	{Name: "TELEGRAM_REPLY_RATE", Help: "optional limit of the bot's replies to citizens who wrote, shared by every process " +
		"(count/period, e.g. 100/1s); empty: replies are paced per chat and by Telegram's 429 answers only"},
	{Name: "ZALO_APP_ID", Help: "Zalo app id (developer console); with ZALO_OA_SECRET it turns the Zalo channel on " +
		"(POST /webhooks/zalo); empty: no Zalo channel"},
	{Name: "ZALO_APP_SECRET", Secret: true, Help: "the Zalo app's secret key: sent as secret_key to refresh access tokens"},
	{Name: "ZALO_OA_SECRET", Secret: true, Help: "the OA secret key that signs webhook events (X-ZEvent-Signature)"},
	{Name: "ZALO_ACCESS_TOKEN", Secret: true, Help: "OA access token from the OA's authorization; with ZALO_REFRESH_TOKEN " +
		"it only seeds an empty token store in Redis, which keeps the pair from then on"},
	{Name: "ZALO_REFRESH_TOKEN", Secret: true, Help: "OA refresh token (single-use, about 3 months), seeds the store with ZALO_ACCESS_TOKEN"},
	{Name: "ZALO_API_BASE", Default: zalo.DefaultAPIBase, Help: "base URL of the OA API (a fake one in tests)"},
	{Name: "ZALO_OAUTH_BASE", Default: zalo.DefaultOAuthBase, Help: "base URL of Zalo's OAuth endpoint that refreshes tokens"},
	{Name: "ZALO_ZNS_BASE", Default: zalo.DefaultZNSBase, Help: "base URL of Zalo's business API, which sends the programs' " +
		"ZNS template messages to Zalo citizens outside the OA's 7-day interaction window"},
	{Name: "ZALO_FILE_HOSTS", Default: strings.Join(zalo.DefaultFileHosts(), ","), Help: "hosts (and their subdomains) the media proxy " +
		"may fetch citizens' Zalo files from, over https only"},
	{Name: "ZALO_CHAT_INTERVAL", Default: "1s", Help: "least time between messages to one Zalo citizen (bursts of 3 allowed)"},
}

// loadConfig reads and checks the environment. Every error names its variable.
func loadConfig(env func(string) string) (config, error) {
	r := envvar.NewReader(env, envVars)
	c := config{
		HTTPAddr:      r.Get("HTTP_ADDR"),
		RedisURL:      r.Get("REDIS_URL"),
		RedisPrefix:   r.Get("REDIS_PREFIX"),
		ProgramsFile:  r.Get("PROGRAMS_FILE"),
		PublicBaseURL: r.Get("PUBLIC_BASE_URL"),
		Telegram: telegram.Settings{
			Token:    r.Get("TELEGRAM_BOT_TOKEN"),
			Secret:   r.Get("TELEGRAM_WEBHOOK_SECRET"),
			Endpoint: r.Get("TELEGRAM_API_ENDPOINT"),
			Mode:     r.Get("TELEGRAM_MODE"),
		},
		Zalo: readZaloConfig(r),
		Intake: intake.Settings{
			Kind:   r.Get("INTAKE_KIND"),
			File:   r.Get("INTAKE_FILE"),
			URL:    r.Get("INTAKE_URL"),
			Secret: r.Get("INTAKE_SECRET"),
			APIKey: r.Get("INTAKE_API_KEY"),
			Open311: intake.Open311Defaults{
				ServiceCode:  r.Get("OPEN311_SERVICE_CODE"),
				FeedbackCode: r.Get("OPEN311_FEEDBACK_CODE"),
				Address:      r.Get("OPEN311_ADDRESS"),
				Jurisdiction: r.Get("OPEN311_JURISDICTION"),
				Retry400For:  r.Get("OPEN311_RETRY_400_FOR"),
			},
		},
		MediaSecret: r.Get("MEDIA_SECRET"),
		Later:       map[string]string{},
	}
	chatInterval := r.Get("TELEGRAM_CHAT_INTERVAL")
	if d, err := time.ParseDuration(chatInterval); err != nil || d < 0 {
		r.Fail(fmt.Errorf("TELEGRAM_CHAT_INTERVAL=%q: want a duration such as 1s", chatInterval))
	} else {
		c.Telegram.ChatInterval = d
	}
	for _, v := range []struct {
		name string
		rate *envvar.Rate
	}{{"TELEGRAM_BULK_RATE", &c.TelegramBulk}, {"TELEGRAM_REPLY_RATE", &c.TelegramReplies}} {
		rate, err := envvar.ParseRate(r.Get(v.name))
		if err != nil {
			r.Fail(fmt.Errorf("%s=%w", v.name, err))
		}
		*v.rate = rate
	}
	if c.TelegramBulk.N == 0 {
		r.Fail(errors.New("TELEGRAM_BULK_RATE: want a limit, e.g. 30/1s: bulk messages must keep to Telegram's"))
	}
	c.Telegram.PaidBroadcast = readPaidBroadcast(r)
	if c.Telegram.PaidBroadcast && strings.TrimSpace(env("TELEGRAM_BULK_RATE")) == "" {
		c.TelegramBulk = paidBulkRate
	}
	c.BulkQuiet = readQuietHours(r)
	c.Reminders = readReminders(r)
	if area, err := flows.Hanoi.ParseBox(r.Get("CITY_BBOX")); err != nil {
		r.Fail(fmt.Errorf("CITY_BBOX=%q: %w", r.Get("CITY_BBOX"), err))
	} else {
		c.Area = area
	}
	c.Console = readConsoleSettings(r)
	level, mediaTTL := r.Get("LOG_LEVEL"), r.Get("MEDIA_LINK_TTL")
	for _, v := range envVars {
		if v.Later {
			c.Later[v.Name] = r.Get(v.Name)
		}
	}
	if err := r.Err(); err != nil {
		return config{}, err
	}
	if err := c.check(level, mediaTTL); err != nil {
		return config{}, err
	}
	return c, nil
}

// check checks what loadConfig read and settles the values parsed from text.
func (c *config) check(level, mediaTTL string) error {
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("HTTP_ADDR=%q: want host:port, e.g. :8080", c.HTTPAddr)
	}
	if c.RedisURL != "" {
		if err := redisstore.CheckURL(c.RedisURL); err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
	}
	if c.RedisPrefix == "" || strings.ContainsAny(c.RedisPrefix, "{} \t\n") {
		return fmt.Errorf("REDIS_PREFIX=%q: not empty, no spaces or braces (braces are hash tags)", c.RedisPrefix)
	}
	if err := c.Intake.Check(); err != nil {
		return err
	}
	if err := c.checkMedia(mediaTTL); err != nil {
		return err
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", level)
	}
	if c.PublicBaseURL != "" {
		u, err := url.Parse(c.PublicBaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("PUBLIC_BASE_URL=%q: want an absolute http(s) URL", c.PublicBaseURL)
		}
	}
	if err := c.Telegram.Check(); err != nil {
		return err
	}
	if err := c.Zalo.Check(); err != nil {
		return err
	}
	return nil
}

// paidBulkRate is TELEGRAM_BULK_RATE's default when broadcasts are paid for: Telegram's
// limit of paid broadcasts, in the window of the free ones.
var paidBulkRate = envvar.Rate{N: telegram.PaidLimit, Per: telegram.BotWindow}

// readPaidBroadcast reads TELEGRAM_PAID_BROADCAST.
func readPaidBroadcast(r *envvar.Reader) bool {
	switch v := strings.ToLower(r.Get("TELEGRAM_PAID_BROADCAST")); v {
	case "true":
		return true
	case "false":
		return false
	default:
		r.Fail(fmt.Errorf("TELEGRAM_PAID_BROADCAST=%q: want true or false", v))
		return false
	}
}

// readReminders reads BROADCAST_REMINDERS.
func readReminders(r *envvar.Reader) bool {
	switch v := strings.ToLower(r.Get("BROADCAST_REMINDERS")); v {
	case "on":
		return true
	case "off":
		return false
	default:
		r.Fail(fmt.Errorf("BROADCAST_REMINDERS=%q: want on or off", v))
		return false
	}
}

// readQuietHours reads BULK_QUIET_HOURS: "none" turns them off (empty is the default,
// as for every variable).
func readQuietHours(r *envvar.Reader) broadcast.QuietHours {
	v := r.Get("BULK_QUIET_HOURS")
	if strings.EqualFold(v, "none") {
		return broadcast.QuietHours{}
	}
	q, err := broadcast.ParseQuietHours(v)
	if err != nil {
		r.Fail(fmt.Errorf("BULK_QUIET_HOURS: %w", err))
	}
	return q
}

// flowsBox writes an area's box as CITY_BBOX reads it.
func flowsBox(a flows.Area) string {
	return fmt.Sprintf("%g,%g,%g,%g", a.MinLat, a.MinLon, a.MaxLat, a.MaxLon)
}

// writeEnvHelp prints the environment variables for --help.
func writeEnvHelp(w io.Writer) { envvar.WriteHelp(w, envVars) }
