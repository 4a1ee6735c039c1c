package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"

	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/cmdline"
	"github.com/sangkien/sangkien/health"
	"github.com/sangkien/sangkien/integrations/webchat"
	"github.com/sangkien/sangkien/integrations/webhook"
	"github.com/sangkien/sangkien/lifecycle"
	"github.com/sangkien/sangkien/logging"
	"github.com/sangkien/sangkien/metrics"
)

// serve's collector settings unless GOGC is set (and GOMEMLIMIT for the limit).
const (
	serveGOGC        = 400
	serveMemoryLimit = 160 << 20
)

// serve runs the gateway's HTTP server and outbox worker until ctx is cancelled.
func serve(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: sangkien serve

Runs the gateway: the HTTP server on HTTP_ADDR (GET /healthz, GET /readyz, the
channels' webhooks, POST /callbacks/intake, GET /media/{id}) and the outbox worker that
hands confirmed submissions to the intake (INTAKE_KIND). Stops gracefully on
SIGINT or SIGTERM. It takes no options; everything comes from the environment.

`)
		writeEnvHelp(w)
	}
	if done, err := cmdline.ParseFlags(fs, args, stdout, usage); done {
		return err
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	log := cfg.Log.New(stderr, logging.JSON)
	redisstore.RouteClientLogs(log.With("component", "redis")) // go-redis's lines in serve's format too
	if env("GOGC") == "" {
		// The heap may grow to five times the live data instead of two: less CPU an
		// update for some 35 MiB more (README, Benchmarks), and a soft limit past which
		// the collector works harder instead (a broadcast's fan-out). GOGC and
		// GOMEMLIMIT, when set, rule.
		debug.SetGCPercent(serveGOGC)
		if env("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(serveMemoryLimit)
		}
	}
	parts := &lifecycle.Parts{Log: log}
	failed, err := startServing(ctx, cfg, log, parts)
	if err != nil {
		_ = parts.Stop(lifecycle.ShutdownTimeout)
		return err
	}
	select {
	case <-ctx.Done():
		log.Info("stopping", "component", "http")
	case err := <-failed:
		_ = parts.Stop(lifecycle.ShutdownTimeout)
		return fmt.Errorf("http server: %w", err)
	}
	err = parts.Stop(lifecycle.ShutdownTimeout)
	log.Info("stopped", "component", "http")
	return err
}

// startServing starts the parts of serve in order, adding each to parts: the gateway,
// the listener, the channels, the intake and its worker, then the HTTP server. It
// returns the channel a failure of the HTTP server arrives on.
func startServing(ctx context.Context, cfg config, log *slog.Logger, parts *lifecycle.Parts) (<-chan error, error) {
	g, err := newGateway(cfg, log)
	if err != nil {
		return nil, err
	}
	parts.Add("gateway", func(context.Context) error {
		if err := g.Close(); err != nil {
			log.Error("close", "err", err)
		}
		return nil
	})
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("HTTP_ADDR: %w", err)
	}
	parts.Add("listener", func(context.Context) error {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	})
	mux := http.NewServeMux()
	health.Mount(mux, g.store, cfg.Health, log)
	m, err := metrics.Setup(cfg.Metrics, g.store, g.redis.Client, mux, parts, log)
	if err != nil {
		return nil, err
	}
	g.guard = webhook.NewGuard(webhook.GuardConfig{Settings: cfg.Webhook, Count: m.Unauthenticated, Logger: log})
	tg, err := g.startTelegram(ctx, cfg, mux, parts, m)
	if err != nil {
		return nil, err
	}
	zl, err := g.startZalo(ctx, cfg, mux, parts, m)
	if err != nil {
		return nil, err
	}
	wc, err := webchat.Start(ctx, webchat.StartConfig{SetupConfig: webchat.SetupConfig{Settings: cfg.Webchat, Handler: m.Events(g.engine),
		Replies: g.store.WebReplies(webchat.StreamMax, cfg.Webchat.TokenTTL), Limiter: g.store.Delivery(), Keys: g.store, Files: g.store.WebFiles(), Proxies: cfg.Webhook.Proxies, Catalog: g.catalog,
		Done: ctx.Done(), Logger: log}, Mux: mux, Run: parts.Run, Dispatcher: g.dispatcher, Wrap: m.Sender, BulkQuiet: cfg.Broadcast.Quiet})
	if err != nil {
		return nil, err
	}
	if tg == nil && !zl && !cfg.Webchat.Enabled {
		log.Warn("no channel configured: citizens cannot reach this gateway (set TELEGRAM_BOT_TOKEN or ZALO_APP_ID, or WEBCHAT_ENABLED=true)")
	}
	in, err := g.setupIntake(ctx, cfg, mux, mediaFetchers(cfg, tg, zl, wc))
	if err != nil {
		return nil, err
	}
	desk, err := g.mountConsole(cfg, mux, in.signer, m.Turns(g.engine))
	if err != nil {
		return nil, err
	}
	parts.Run("outbox worker", func(ctx context.Context) { _ = g.intakeWorker(in, m.Intake).Run(ctx) })
	bc := &broadcast.Runner{Store: g.store, Holder: consumerID(), Logger: g.log}
	if cfg.Broadcast.Reminders {
		bc.Reminders = &broadcast.Reminders{Programs: g.programs, Catalog: g.catalog}
	}
	parts.Run("broadcasts", func(ctx context.Context) { _ = bc.Run(ctx) })
	failed := parts.ServeHTTP(ln, mux, log)
	// Stopped before the HTTP server (parts stop in reverse), whose shutdown would
	// otherwise wait for the console's open event streams.
	parts.Add("console", func(context.Context) error { desk.Close(); return nil })
	log.Info("http server listening", "component", "http", "addr", ln.Addr().String(),
		"intake", cfg.Intake.Kind)
	return failed, nil
}
