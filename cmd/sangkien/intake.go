package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/media"
)

// intakeConfig is the city intake part of config: where submissions go, how status
// callbacks are checked, and how attachments are linked.
type intakeConfig struct {
	URL    string // INTAKE_URL
	Secret string // INTAKE_SECRET: signs submissions (json) and checks callbacks
	APIKey string // INTAKE_API_KEY (open311)
	// MediaSecret signs media links (MEDIA_SECRET); empty: derived from Secret, or a
	// random key per start.
	MediaSecret string
	MediaTTL    time.Duration // MEDIA_LINK_TTL
	Open311     open311Defaults
}

// open311Defaults fill what a submission cannot give an Open311 server (OPEN311_*).
type open311Defaults struct {
	ServiceCode, FeedbackCode, Address, Jurisdiction string
}

// checkIntake settles INTAKE_KIND (json when INTAKE_URL is set, file otherwise) and
// checks what that kind needs.
func (c *config) checkIntake(mediaTTL string) error {
	in := &c.Intake
	if c.IntakeKind == "" {
		c.IntakeKind = "file"
		if in.URL != "" {
			c.IntakeKind = "json"
		}
	}
	switch c.IntakeKind {
	case "file":
	case "json", "open311":
		if in.URL == "" {
			return fmt.Errorf("INTAKE_URL: required with INTAKE_KIND=%s", c.IntakeKind)
		}
		u, err := url.Parse(in.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			// The URL may carry a credential: name the variable, not the value.
			return errors.New("INTAKE_URL: want an absolute http(s) URL")
		}
		if c.IntakeKind == "json" && in.Secret == "" {
			return errors.New("INTAKE_SECRET: required with INTAKE_KIND=json: every submission is signed with it")
		}
	default:
		return fmt.Errorf("INTAKE_KIND=%q: want json, open311 or file", c.IntakeKind)
	}
	d, err := time.ParseDuration(mediaTTL)
	if err != nil || d <= 0 {
		return fmt.Errorf("MEDIA_LINK_TTL=%q: want a positive duration such as 168h", mediaTTL)
	}
	in.MediaTTL = d
	if in.MediaSecret != "" && len(in.MediaSecret) < 16 {
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
	var p intakeParts
	if cfg.PublicBaseURL == "" {
		notice(log, cfg, "PUBLIC_BASE_URL is empty: attachments reach the intake without links to their files")
	} else {
		key := []byte(cfg.Intake.MediaSecret)
		if len(key) == 0 {
			// Not derived from INTAKE_SECRET: the intake holds that one, and must not be
			// able to sign links of its own. One random key, kept in Redis, serves
			// every process and outlives restarts.
			var err error
			if key, err = g.store.SharedKey(ctx, "media", 32); err != nil {
				return p, fmt.Errorf("media link key: %w", err)
			}
		}
		s, err := media.NewSigner(key, cfg.PublicBaseURL, cfg.Intake.MediaTTL, nil)
		if err != nil {
			return p, fmt.Errorf("MEDIA_SECRET: %w", err)
		}
		p.signer = s
		mux.Handle("GET /media/{id}", media.NewHandler(s, fetchers, g.log))
	}
	if cfg.Intake.Secret == "" {
		notice(log, cfg, "INTAKE_SECRET is empty: POST /callbacks/intake is off, status changes from the city cannot reach citizens")
	} else {
		mux.Handle("POST /callbacks/intake", &callbacks{
			secret: []byte(cfg.Intake.Secret), index: g.store, engine: g.engine, log: log, now: time.Now,
		})
	}

	var err error
	switch cfg.IntakeKind {
	case "json":
		p.remote = true
		jc := intake.JSONConfig{URL: cfg.Intake.URL, Secret: cfg.Intake.Secret, Logger: g.log}
		if p.signer != nil {
			jc.MediaURL = p.mediaURL
		}
		p.client, err = intake.NewJSONClient(jc)
	case "open311":
		p.remote = true
		d := cfg.Intake.Open311
		oc := intake.Open311Config{
			URL: cfg.Intake.URL, APIKey: cfg.Intake.APIKey, Programs: g.programs, Logger: g.log,
			DefaultServiceCode: d.ServiceCode, FeedbackServiceCode: d.FeedbackCode,
			DefaultAddress: d.Address, JurisdictionID: d.Jurisdiction,
		}
		if p.signer != nil {
			oc.MediaURL = p.mediaURL
		}
		if d.FeedbackCode == "" && d.ServiceCode == "" {
			log.Warn("OPEN311_FEEDBACK_CODE and OPEN311_SERVICE_CODE are empty: feedback cannot be filed " +
				"and goes to the failed list (sangkien intake failed)")
		}
		p.client, err = intake.NewOpen311Client(oc)
	default:
		p.client = g.sink
	}
	if err != nil {
		return p, fmt.Errorf("INTAKE_URL: %w", err)
	}
	return p, nil
}

// notice logs a missing intake setting: a warning with the city's intake, news only with
// the local file, which has no city behind it to link to or to call back.
func notice(log *slog.Logger, cfg config, msg string) {
	if cfg.IntakeKind == "file" {
		log.Info(msg)
		return
	}
	log.Warn(msg)
}

// mediaFetchers are the media proxy's fetchers of the running channels.
func (g *gateway) mediaFetchers(tg *telegramChannel) map[bot.Channel]media.Fetcher {
	f := map[bot.Channel]media.Fetcher{}
	if tg != nil {
		// Resolved server-side: getFile's download URL carries the bot token.
		f[bot.Telegram] = media.URLFetcher{Resolve: tg.client.FileURL}
	}
	return f
}

// mediaURL is the signed link of one of the submission's attachments.
// Counted from the submission's time, the links are the same on every delivery.
func (p intakeParts) mediaURL(a bot.Attachment, s bot.Submission) (string, error) {
	return p.signer.LinkSince(s.Conversation.Channel, a, s.SubmittedAt)
}

// intakeWorker is the outbox worker of serve. With the city's intake it tells the
// citizen that the city received the submission.
func (g *gateway) intakeWorker(p intakeParts) *bot.OutboxWorker {
	w := g.worker(p.client)
	w.Events, w.TellReceived = g.engine, p.remote
	return w
}

// intakeCommand is `sangkien intake pending|failed|retry`: what operators see of the
// outbox, and how they send refused submissions again.
func intakeCommand(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("intake", flag.ContinueOnError)
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: sangkien intake pending|failed|retry <id>|retry --all

  pending          submissions waiting for the intake: new ones and ones being retried,
                   with their attempts, next try and last error
  failed           submissions the intake refused for good (a 4xx other than 408 and
                   429), with its status and answer
  retry <id>       move a failed submission back to the outbox: the gateway delivers it
                   once more (after the cause is fixed)
  retry --all      the same for every failed submission
  dead             outbox entries nobody could read (damaged or from another version),
                   set aside so they block nothing; look into them by hand

Reads REDIS_URL and REDIS_PREFIX, as serve does.

`)
	}
	all := fs.Bool("all", false, "retry: every failed submission")
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	var ids []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		ids, args = append(ids, args[0]), args[1:]
	}
	if done, err := parseFlags(fs, args, stdout, usage); done {
		return err
	}
	switch {
	case sub == "":
		usage(stderr)
		return errors.New("intake: pending, failed, retry or dead?")
	case sub == "retry" && (*all == (len(ids) > 0)):
		return errors.New("intake retry: give submission ids or --all (see sangkien intake --help)")
	case sub != "retry" && (len(ids) > 0 || *all):
		return fmt.Errorf("intake %s: takes no arguments", sub)
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	if cfg.RedisURL == "" {
		return errors.New("REDIS_URL: required: the outbox lives in the gateway's Redis")
	}
	conn, err := openRedis(cfg.RedisURL, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer conn.Close()
	store := redisstore.New(conn.Client, redisstore.Options{Prefix: cfg.RedisPrefix, Logger: newLogger(stderr, cfg.LogLevel)})
	switch sub {
	case "pending":
		return printPending(ctx, store, stdout)
	case "failed":
		return printFailed(ctx, store, stdout)
	case "dead":
		return printDead(ctx, store, stdout)
	case "retry":
		return retryFailed(ctx, store, ids, *all, stdout)
	}
	usage(stderr)
	return fmt.Errorf("intake: unknown command %q", sub)
}

func printPending(ctx context.Context, store *redisstore.Store, w io.Writer) error {
	pending, err := store.PendingSubmissions(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREFERENCE\tKIND\tSUBMITTED\tATTEMPTS\tNEXT TRY\tLAST ERROR")
	for _, p := range pending {
		next, last := "now", "-"
		if p.Attempts.Count > 0 {
			next = stamp(p.Attempts.Next)
			last = p.Attempts.LastError
			if p.Attempts.Code != 0 && !strings.Contains(last, strconv.Itoa(p.Attempts.Code)) {
				last += " (" + strconv.Itoa(p.Attempts.Code) + ")"
			}
		}
		s := p.Submission
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Reference, s.Kind, stamp(s.SubmittedAt),
			p.Attempts.Count, next, last)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d pending\n", len(pending))
	return nil
}

func printDead(ctx context.Context, store *redisstore.Store, w io.Writer) error {
	dead, err := store.DeadEntries(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY\tSET ASIDE\tREASON")
	for _, d := range dead {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Entry, stamp(d.At), oneLine(d.Reason, 100))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d dead\n", len(dead))
	return nil
}

func printFailed(ctx context.Context, store *redisstore.Store, w io.Writer) error {
	failed, err := store.FailedSubmissions(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREFERENCE\tKIND\tSUBMITTED\tFAILED\tSTATUS\tATTEMPTS\tANSWER")
	for _, f := range failed {
		s := f.Submission
		status := f.Failure
		if f.Code != 0 {
			status = strconv.Itoa(f.Code)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.ID, s.Reference, s.Kind, stamp(s.SubmittedAt),
			stamp(f.At), status, f.Attempts, oneLine(f.Body, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d failed\n", len(failed))
	return nil
}

func retryFailed(ctx context.Context, store *redisstore.Store, ids []string, all bool, w io.Writer) error {
	if all {
		moved, err := store.RetryAllFailed(ctx)
		for _, id := range moved {
			fmt.Fprintf(w, "%s: back in the outbox\n", id)
		}
		fmt.Fprintf(w, "%d submission(s) back in the outbox\n", len(moved))
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := store.RetryFailed(ctx, id); err != nil {
			if errors.Is(err, redisstore.ErrUnknownSubmission) {
				err = fmt.Errorf("%s: not on the failed list", id)
			}
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(w, "%s: back in the outbox\n", id)
	}
	return errors.Join(errs...)
}

// stamp shows a time in the city's time zone, to the minute.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(bot.HoChiMinh).Format("2006-01-02 15:04")
}

// oneLine flattens and shortens an intake's answer for a table cell.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	if s == "" {
		s = "-"
	}
	return s
}
