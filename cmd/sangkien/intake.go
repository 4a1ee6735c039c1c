package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/flows"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/media"
	"github.com/sangkien/sangkien/integrations/telegram"
	"github.com/sangkien/sangkien/integrations/zalo"
)

// checkMedia reads MEDIA_LINK_TTL and checks MEDIA_SECRET.
func (c *config) checkMedia(mediaTTL string) error {
	d, err := time.ParseDuration(mediaTTL)
	if err != nil || d <= 0 {
		return fmt.Errorf("MEDIA_LINK_TTL=%q: want a positive duration such as 168h", mediaTTL)
	}
	c.MediaTTL = d
	if c.MediaSecret != "" && len(c.MediaSecret) < 16 {
		return errors.New("MEDIA_SECRET: want at least 16 characters")
	}
	return nil
}

// intakeParts is what serve runs for the intake: the client the outbox worker delivers
// to, and the signer of media links (nil without PUBLIC_BASE_URL).
type intakeParts struct {
	client bot.Intake
	// remote is true for the city's real intake (json, open311), whose receipt the
	// citizen is told; the local file is not the city.
	remote bool
	signer *media.Signer
}

// setupIntake builds the intake client and mounts POST /callbacks/intake and
// GET /media/{id} on mux. fetchers holds a media fetcher for each running channel.
func (g *gateway) setupIntake(ctx context.Context, cfg config, mux *http.ServeMux, fetchers map[bot.Channel]media.Fetcher) (intakeParts, error) {
	log := g.log.With("component", "intake")
	p := intakeParts{client: g.sink, remote: cfg.Intake.Remote()}
	if cfg.PublicBaseURL == "" {
		notice(log, cfg, "PUBLIC_BASE_URL is empty: attachments reach the intake without links to their files")
	} else {
		s, err := media.SignerFor(ctx, cfg.MediaSecret, g.store, cfg.PublicBaseURL, cfg.MediaTTL)
		if err != nil {
			return p, err
		}
		p.signer = s
		mux.Handle("GET /media/{id}", media.NewHandler(s, fetchers, flows.FileType, g.log))
	}
	if cfg.Intake.Secret == "" {
		notice(log, cfg, "INTAKE_SECRET is empty: POST /callbacks/intake is off, status changes from the city cannot reach citizens")
	} else {
		cb, err := intake.NewCallbacks(intake.CallbackConfig{
			Secret: []byte(cfg.Intake.Secret), Index: g.store, Engine: g.engine, Logger: g.log,
		})
		if err != nil {
			return p, err
		}
		mux.Handle("POST /callbacks/intake", cb)
	}
	if !p.remote {
		return p, nil
	}
	var mediaURL func(bot.Attachment, bot.Submission) (string, error)
	if p.signer != nil {
		mediaURL = p.signer.SubmissionLink
	}
	var err error
	p.client, err = intake.NewRemote(cfg.Intake, g.programs, mediaURL, g.log)
	return p, err
}

// notice logs a missing intake setting: a warning with the city's intake, news only with
// the local file, which has no city behind it to link to or to call back.
func notice(log *slog.Logger, cfg config, msg string) {
	if !cfg.Intake.Remote() {
		log.Info(msg)
		return
	}
	log.Warn(msg)
}

// mediaFetchers are the media proxy's fetchers of the running channels.
func mediaFetchers(cfg config, tg *telegram.Client, zaloRuns bool) map[bot.Channel]media.Fetcher {
	f := map[bot.Channel]media.Fetcher{}
	if tg != nil {
		// Resolved server-side: getFile's download URL carries the bot token.
		f[bot.Telegram] = media.URLFetcher{Resolve: tg.FileURL}
	}
	if zaloRuns {
		// Citizens' Zalo files are downloaded from their URL, which needs no token.
		files := zalo.FileURLs{Hosts: cfg.Zalo.FileHosts}
		f[bot.Zalo] = media.URLFetcher{Resolve: files.Resolve, Allow: files.Allowed}
	}
	return f
}

// intakeWorker is the outbox worker of serve. With the city's intake it tells the
// citizen that the city received the submission.
func (g *gateway) intakeWorker(p intakeParts) *bot.OutboxWorker {
	w := g.worker(p.client)
	w.Events, w.TellReceived = g.engine, p.remote
	return w
}

// intakeCommand is `sangkien intake pending|failed|retry|dead`: what operators see of
// the outbox, and how they send refused submissions again.
func intakeCommand(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	a, done, err := parseIntakeArgs(args, stdout, stderr)
	if done {
		return err
	}
	store, closeStore, err := adminStore(env, stderr, "the outbox lives")
	if err != nil {
		return err
	}
	defer closeStore()
	admin := intake.Admin{Outbox: store, Out: stdout, Zone: bot.HoChiMinh()}
	err = admin.Run(ctx, a.sub, a.ids, a.all)
	if errors.Is(err, intake.ErrUnknownCommand) {
		intakeUsage(stderr)
		return fmt.Errorf("intake: %w", err)
	}
	return err
}

// adminStore opens the gateway's Redis for an operator command (intake, staff), as
// serve configures it; what names what the command needs there, for the error.
func adminStore(env func(string) string, stderr io.Writer, what string) (*redisstore.Store, func(), error) {
	cfg, err := loadConfig(env)
	if err != nil {
		return nil, nil, err
	}
	if cfg.RedisURL == "" {
		return nil, nil, fmt.Errorf("REDIS_URL: required: %s in the gateway's Redis", what)
	}
	conn, err := redisstore.Open(cfg.RedisURL, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	store := redisstore.New(conn.Client, redisstore.Options{Prefix: cfg.RedisPrefix, Logger: newLogger(stderr, cfg.LogLevel)})
	return store, func() { _ = conn.Close() }, nil
}

// intakeArgs are the operator command, its submission ids and --all.
type intakeArgs struct {
	sub string
	ids []string
	all bool
}

// parseIntakeArgs reads `intake <command> [ids…] [--all]`; done means there is nothing
// more to do (help was shown, or err says what is wrong).
func parseIntakeArgs(args []string, stdout, stderr io.Writer) (a intakeArgs, done bool, err error) {
	fs := flag.NewFlagSet("intake", flag.ContinueOnError)
	all := fs.Bool("all", false, "retry: every failed submission")
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		a.sub, args = args[0], args[1:]
	}
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		a.ids, args = append(a.ids, args[0]), args[1:]
	}
	if done, err := parseFlags(fs, args, stdout, intakeUsage); done {
		return a, true, err
	}
	a.all = *all
	switch {
	case a.sub == "":
		intakeUsage(stderr)
		return a, true, errors.New("intake: pending, failed, retry or dead?")
	case a.sub == "retry" && (a.all == (len(a.ids) > 0)):
		return a, true, errors.New("intake retry: give submission ids or --all (see sangkien intake --help)")
	case a.sub != "retry" && (len(a.ids) > 0 || a.all):
		return a, true, fmt.Errorf("intake %s: takes no arguments", a.sub)
	}
	return a, false, nil
}

func intakeUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: sangkien intake pending|failed|retry <id>|retry --all\n\n"+intake.AdminHelp+
		"\nReads REDIS_URL and REDIS_PREFIX, as serve does.\n\n")
}
