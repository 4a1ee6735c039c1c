package main

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/envvar"
	"github.com/sangkien/sangkien/flows"
	"github.com/sangkien/sangkien/health"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/media"
	"github.com/sangkien/sangkien/integrations/telegram"
	"github.com/sangkien/sangkien/integrations/webchat"
	"github.com/sangkien/sangkien/integrations/webhook"
	"github.com/sangkien/sangkien/integrations/zalo"
	"github.com/sangkien/sangkien/logging"
	"github.com/sangkien/sangkien/metrics"
)

// config is everything the gateway reads from its environment, checked once at start.
type config struct {
	HTTPAddr      string
	RedisURL      string // secret: may carry a password
	RedisPrefix   string
	Redis         redisstore.Settings // REDIS_LEGACY_FORMAT
	ProgramsFile  string
	Log           logging.Settings // LOG_LEVEL, LOG_FORMAT
	Health        health.Settings  // READY_MAX_QUEUE_AGE
	PublicBaseURL string
	Telegram      telegram.Settings // TELEGRAM_*
	Intake        intake.Settings   // INTAKE_*, OPEN311_*
	Media         media.Settings    // MEDIA_*
	Zalo          zalo.Settings     // ZALO_* (zalo.go)
	Webchat       webchat.Settings  // WEBCHAT_*
	// Area is the city (CITY_BBOX): a shared point outside it is questioned.
	Area      flows.Area
	Broadcast broadcast.Settings // BULK_QUIET_HOURS, BROADCAST_REMINDERS
	Metrics   metrics.Settings   // METRICS_ADDR
	Webhook   webhook.Settings   // WEBHOOK_AUTH_LIMIT, TRUSTED_PROXIES
	// Console is the operator console's (CONSOLE_*, console.go).
	Console consoleSettings
	// Outbox names the store's outbox (redisstore.Options.Outbox): "" for serve, "chat"
	// for the terminal. Not read from the environment.
	Outbox string
	// Later holds the variables of channels and intakes not built yet: read (so that a
	// NAME_FILE that cannot be read fails now) and kept, but unused.
	Later map[string]string
}

// envVars lists every variable the gateway reads, in the order help shows them: its
// own, then each part's.
var envVars = slices.Concat([]envvar.Var{
	{Name: "HTTP_ADDR", Default: ":8080", Help: "address the HTTP server listens on (serve)"},
	{Name: "REDIS_URL", Secret: true, Help: "Redis: redis://, rediss://, unix://; a cluster with several hosts " +
		"(redis://h1:6379,h2:6379) or redis+cluster://; Sentinel with redis+sentinel://h1:26379,h2:26379/<master>. " +
		"Empty: an embedded in-process Redis that keeps nothing"},
	{Name: "REDIS_PREFIX", Default: "sk", Help: "prefix of every Redis key; gateways with different prefixes share a Redis without meeting"},
	{Name: "PROGRAMS_FILE", Help: "programs catalog (YAML); empty: the sample programs.yaml built in"},
}, redisstore.EnvVars, intake.EnvVars, []envvar.Var{
	{Name: "CITY_BBOX", Default: flowsBox(flows.Hanoi), Help: "the city as minLat,minLon,maxLat,maxLon (WGS84; " +
		"default Hà Nội): a shared point outside it is questioned at the location step"},
}, media.EnvVars, []envvar.Var{
	{Name: "CONSOLE_SESSION_IDLE", Default: "8h", Help: "a console session unused that long ends (it ends 12 hours " +
		"after its login in any case, or after this when longer)"},
	{Name: "CONSOLE_AUDIT_RETENTION", Default: "17520h", Help: "how long the console's audit trail keeps staff actions (default 2 years)"},
	{Name: "CONSOLE_HOLIDAYS_FILE", Help: "public holidays and make-up working days for the console's response clocks; " +
		"empty: the ones shipped for 2026 and 2027 (console/workday/holidays.txt shows the format)"},
	{Name: "PUBLIC_BASE_URL", Help: "the gateway's public https URL: webhooks, and the media links the intake gets for attachments"},
}, logging.EnvVars, health.EnvVars, broadcast.EnvVars, telegram.EnvVars, zalo.EnvVars, webchat.EnvVars, metrics.EnvVars, webhook.EnvVars)

// loadConfig reads and checks the environment. Every error names its variable.
func loadConfig(env func(string) string) (config, error) {
	r := envvar.NewReader(env, envVars)
	c := config{
		HTTPAddr:      r.Get("HTTP_ADDR"),
		RedisURL:      r.Get("REDIS_URL"),
		RedisPrefix:   r.Get("REDIS_PREFIX"),
		Redis:         redisstore.ReadSettings(r),
		ProgramsFile:  r.Get("PROGRAMS_FILE"),
		PublicBaseURL: r.Get("PUBLIC_BASE_URL"),
		Metrics:       metrics.ReadSettings(r),
		Webhook:       webhook.ReadSettings(r),
		Telegram:      telegram.ReadSettings(r),
		Zalo:          zalo.ReadSettings(r),
		Webchat:       webchat.ReadSettings(r),
		Intake:        intake.ReadSettings(r),
		Broadcast:     broadcast.ReadSettings(r),
		Media:         media.ReadSettings(r),
		Log:           logging.ReadSettings(r),
		Health:        health.ReadSettings(r),
		Later:         map[string]string{},
	}
	if area, err := flows.Hanoi.ParseBox(r.Get("CITY_BBOX")); err != nil {
		r.Fail(fmt.Errorf("CITY_BBOX=%q: %w", r.Get("CITY_BBOX"), err))
	} else {
		c.Area = area
	}
	c.Console = readConsoleSettings(r)
	for _, v := range envVars {
		if v.Later {
			c.Later[v.Name] = r.Get(v.Name)
		}
	}
	if err := r.Err(); err != nil {
		return config{}, err
	}
	if err := c.check(); err != nil {
		return config{}, err
	}
	return c, nil
}

// check checks what loadConfig read and settles the values parsed from text.
func (c *config) check() error {
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
	if c.PublicBaseURL != "" {
		u, err := url.Parse(c.PublicBaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("PUBLIC_BASE_URL=%q: want an absolute http(s) URL", c.PublicBaseURL)
		}
	}
	if err := c.Telegram.Check(); err != nil {
		return err
	}
	return c.Zalo.Check()
}

// flowsBox writes an area's box as CITY_BBOX reads it.
func flowsBox(a flows.Area) string {
	return fmt.Sprintf("%g,%g,%g,%g", a.MinLat, a.MinLon, a.MaxLat, a.MaxLon)
}

// writeEnvHelp prints the environment variables for --help.
func writeEnvHelp(w io.Writer) { envvar.WriteHelp(w, envVars) }
