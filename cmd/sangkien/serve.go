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
	"sync"
	"time"
)

// shutdownTimeout bounds a graceful stop: in-flight requests, then the outbox worker.
const shutdownTimeout = 10 * time.Second

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
	if done, err := parseFlags(fs, args, stdout, usage); done {
		return err
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)

	g, err := newGateway(cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := g.Close(); err != nil {
			log.Error("close", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	mux := g.routes()
	chanCtx, stopChannels := context.WithCancel(context.WithoutCancel(ctx))
	defer stopChannels()
	var (
		tg *telegramChannel
		zl *zaloChannel
	)
	// abort undoes what started before the server runs: the listener and the channels'
	// pollers and senders, which must stop before Redis closes.
	abort := func(err error) error {
		ln.Close()
		stopChannels()
		tg.wait()
		zl.wait()
		return err
	}
	if tg, err = g.startTelegram(chanCtx, cfg, mux); err != nil {
		return abort(err)
	}
	if zl, err = g.startZalo(chanCtx, cfg, mux); err != nil {
		return abort(err)
	}
	in, err := g.setupIntake(ctx, cfg, mux, zl.addFetcher(g.mediaFetchers(tg)))
	if err != nil {
		return abort(err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// Webhook bodies are small: a client trickling one in ties up a goroutine.
		// No write timeout: media downloads stream for as long as the file needs.
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}

	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker()
	var wg sync.WaitGroup
	wg.Go(func() { _ = g.intakeWorker(in).Run(workerCtx) })

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("http server listening", "component", "http", "addr", ln.Addr().String(),
		"intake", cfg.IntakeKind)

	select {
	case <-ctx.Done():
		log.Info("stopping", "component", "http")
	case err := <-served:
		stopChannels()
		tg.wait()
		zl.wait()
		stopWorker()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	}
	// Reverse order: stop taking requests, then stop the worker; Close (deferred) closes
	// the intake file and Redis.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		err = fmt.Errorf("http shutdown: %w", err)
	}
	// The webhook's background calls finish and its album sweeper stops; albums still
	// being gathered stay in Redis for the other processes, or this one after a restart.
	tg.drain(sctx)
	stopChannels()
	tg.wait()
	zl.wait()
	stopWorker()
	wg.Wait()
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	log.Info("stopped", "component", "http")
	return err
}

// routes is the gateway's HTTP surface; channels add their webhooks to it.
func (g *gateway) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", g.ready)
	return mux
}

// ready answers 200 when Redis answers a PING within a second: a load balancer sends
// no traffic to a process that cannot reach its state.
func (g *gateway) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := g.store.Ping(ctx); err != nil {
		g.log.Warn("not ready: redis does not answer", "component", "http", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "redis unavailable\n")
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}
