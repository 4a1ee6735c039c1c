package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/flows"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/media"
	"github.com/sangkien/sangkien/integrations/telegram"
	"github.com/sangkien/sangkien/integrations/webchat"
	"github.com/sangkien/sangkien/integrations/zalo"
)

// intakeParts is what serve runs for the intake: the client the outbox worker delivers
// to, and the signer of media links (nil without PUBLIC_BASE_URL).
type intakeParts struct {
	client bot.Intake
	// remote is true for the city's real intake (json, open311), whose receipt the
	// citizen is told; the local file is not the city.
	remote     bool
	signer     *media.Signer
	deliveries int // INTAKE_CONCURRENCY
}

// setupIntake builds the intake client and mounts POST /callbacks/intake and
// GET /media/{id} on mux. fetchers holds a media fetcher for each running channel.
func (g *gateway) setupIntake(ctx context.Context, cfg config, mux *http.ServeMux, fetchers map[bot.Channel]media.Fetcher) (intakeParts, error) {
	log := g.log.With("component", "intake")
	p := intakeParts{client: g.sink, remote: cfg.Intake.Remote(), deliveries: cfg.Intake.Deliveries}
	if cfg.PublicBaseURL == "" {
		notice(log, cfg, "PUBLIC_BASE_URL is empty: attachments reach the intake without links to their files")
	} else {
		s, err := media.SignerFor(ctx, cfg.Media.Secret, g.store, cfg.PublicBaseURL, cfg.Media.TTL)
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
		mux.Handle("POST /callbacks/intake", g.guard.Wrap("intake callback", cb))
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
func mediaFetchers(cfg config, tg *telegram.Client, zaloRuns bool, web *webchat.Files) map[bot.Channel]media.Fetcher {
	f := map[bot.Channel]media.Fetcher{bot.Web: web} // a nil *webchat.Files knows no file
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

// intakeWorker is the outbox worker of serve, delivering through count (the metrics'
// wrapper). With the city's intake it tells the citizen that the city received the submission.
func (g *gateway) intakeWorker(p intakeParts, count func(bot.Intake) bot.Intake) *bot.OutboxWorker {
	w := g.worker(count(p.client))
	w.Events, w.TellReceived, w.Concurrency = g.engine, p.remote, p.deliveries
	return w
}
