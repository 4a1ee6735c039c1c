package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/console"
	"github.com/sangkien/sangkien/console/workday"
	"github.com/sangkien/sangkien/envvar"
	"github.com/sangkien/sangkien/integrations/media"
)

// consoleSettings are the operator console's variables.
type consoleSettings struct {
	SessionIdle    time.Duration // CONSOLE_SESSION_IDLE
	AuditRetention time.Duration // CONSOLE_AUDIT_RETENTION
	HolidaysFile   string        // CONSOLE_HOLIDAYS_FILE
}

func readConsoleSettings(r *envvar.Reader) consoleSettings {
	var c consoleSettings
	for _, v := range []struct {
		name string
		to   *time.Duration
	}{{"CONSOLE_SESSION_IDLE", &c.SessionIdle}, {"CONSOLE_AUDIT_RETENTION", &c.AuditRetention}} {
		d, err := time.ParseDuration(r.Get(v.name))
		if err != nil || d < time.Minute {
			r.Fail(fmt.Errorf("%s=%q: want a duration of a minute or more, such as 8h", v.name, r.Get(v.name)))
			continue
		}
		*v.to = d
	}
	c.HolidaysFile = r.Get("CONSOLE_HOLIDAYS_FILE")
	return c
}

// calendar is the working-day calendar of the console's clocks.
func (c consoleSettings) calendar() (*workday.Calendar, error) {
	if c.HolidaysFile == "" {
		return workday.Default(), nil
	}
	f, err := os.Open(c.HolidaysFile)
	if err != nil {
		return nil, fmt.Errorf("CONSOLE_HOLIDAYS_FILE: %w", err)
	}
	defer f.Close()
	cal, err := workday.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("CONSOLE_HOLIDAYS_FILE %s: %w", c.HolidaysFile, err)
	}
	return cal, nil
}

// mountConsole serves the operator console under /console/, its actions run by engine
// (the gateway's, counted by the metrics); it shows the citizens' files through the
// media proxy when there is one (signer not nil).
func (g *gateway) mountConsole(cfg config, mux *http.ServeMux, signer *media.Signer, engine console.Engine) (*console.Server, error) {
	cal, err := cfg.Console.calendar()
	if err != nil {
		return nil, err
	}
	staff := g.store.Staff(redisstore.StaffOptions{
		SessionIdle:     cfg.Console.SessionIdle,
		SessionAbsolute: max(redisstore.DefaultSessionAbsolute, cfg.Console.SessionIdle),
	})
	var mediaLink func(bot.Channel, bot.Attachment) (string, error)
	if signer != nil {
		mediaLink = func(ch bot.Channel, a bot.Attachment) (string, error) {
			return signer.PathFor(ch, a, console.MediaLinkTTL)
		}
	}
	srv, err := console.New(console.Config{
		Proxies:       cfg.Webhook.Proxies,
		Engine:        engine,
		Accounts:      console.Accounts{Store: staff, Cost: staffBcryptCost},
		Sessions:      staff,
		Conversations: g.store,
		Submissions:   g.store,
		Audit:         g.store.Audit(redisstore.AuditOptions{Retention: cfg.Console.AuditRetention}),
		Canned:        g.store.Canned(),
		Changes:       g.store,
		Calendar:      cal,
		MediaLink:     mediaLink,
		Holidays:      g.store.Holidays(),
		Programs:      g.programs,
		ProgramEdits:  g.programs,
		Secure:        strings.HasPrefix(cfg.PublicBaseURL, "https://"),
		Logger:        g.log,
	})
	if err != nil {
		return nil, err
	}
	mux.Handle(console.Prefix, srv)
	if members, err := staff.List(context.Background()); err == nil && len(members) == 0 {
		how := "add one with `sangkien staff add` against the same REDIS_URL"
		if cfg.RedisURL == "" {
			how = "the embedded Redis keeps none: set REDIS_URL, then add one with `sangkien staff add`"
		}
		g.log.Warn("the operator console has no staff accounts; "+how, "component", "console", "path", console.Prefix)
	}
	return srv, nil
}
