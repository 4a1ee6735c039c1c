package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/sangkien/sangkien"
	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/flows"
	"github.com/sangkien/sangkien/integrations/intake"
	"github.com/sangkien/sangkien/integrations/webhook"
	"github.com/sangkien/sangkien/locales"
	"github.com/sangkien/sangkien/programs"
)

// gateway is the engine and everything it stands on, shared by serve and chat. Its parts
// are built in order and closed in reverse by Close.
type gateway struct {
	catalog *locales.Catalog
	redis   *redisstore.Conn
	store   *redisstore.Store
	engine  *bot.Engine
	sink    *intake.FileSink // nil unless INTAKE_KIND is file
	guard   *webhook.Guard   // serve's limit on unauthenticated requests
	log     *slog.Logger
	// programs is the catalog as it stands, the programs file with the admins' edits:
	// the flows offer it, the Open311 intake maps its fields, the console edits it and
	// the reminders follow its dates.
	programs *programs.Live
}

// newGateway builds the gateway from cfg. Channels in direct answer from Handle's
// outcome (the terminal) instead of a delivery queue.
func newGateway(cfg config, log *slog.Logger, direct ...bot.Channel) (g *gateway, err error) {
	progs, err := programs.ReadFile(cfg.ProgramsFile, sangkien.DefaultPrograms)
	if err != nil {
		return nil, err
	}
	catalog, err := locales.New()
	if err != nil {
		return nil, fmt.Errorf("locales: %w", err)
	}
	g = &gateway{log: log, catalog: catalog}
	defer func() {
		if err != nil {
			_ = g.Close()
		}
	}()
	if g.redis, err = redisstore.Open(cfg.RedisURL, log); err != nil {
		return nil, err
	}
	g.store = redisstore.New(g.redis.Client, redisstore.Options{Prefix: cfg.RedisPrefix, Outbox: cfg.Outbox, Logger: log,
		LegacyFormat: cfg.Redis.LegacyFormat, Phrases: append(catalog.Phrases(redisstore.PhraseMin), progs.Phrases()...)})
	g.programs = programs.NewLive(progs, g.store.ProgramEdits(), log, nil)
	router, err := flows.NewRouter(flows.Config{
		// The notice version and draft ids are the flows' own defaults: the notice's
		// text lives in locales, next to the version flows records with each consent.
		Programs: g.programs,
		Catalog:  catalog,
		Refs:     g.store,
		Now:      time.Now,
		Logger:   log,
		Area:     &cfg.Area,
		// Versions before the named menu read only the labels (a rolling upgrade).
		LegacyMenu: cfg.Redis.LegacyFormat,
	})
	if err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	g.engine, err = bot.NewEngine(bot.EngineConfig{
		Store:        g.store,
		Conversation: router,
		Logger:       log,
		Direct:       direct,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Intake.Kind != "file" {
		return g, nil
	}
	if g.sink, err = intake.OpenFileSink(cfg.Intake.File, log); err != nil {
		return nil, fmt.Errorf("INTAKE_FILE: %w", err)
	}
	if g.redis.Embedded() {
		if err := g.store.ContinueReferences(context.Background(), g.sink.LastReferences()); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// worker returns an outbox worker that delivers to in.
func (g *gateway) worker(in bot.Intake) *bot.OutboxWorker {
	return bot.NewOutboxWorker(g.store, in, g.log, consumerID())
}

// consumerID names this process among the gateways sharing a Redis: host and pid.
func consumerID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "sangkien"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// Close closes the intake file, then Redis.
func (g *gateway) Close() error {
	var errs []error
	if g.sink != nil {
		errs = append(errs, g.sink.Close())
	}
	if g.redis != nil {
		errs = append(errs, g.redis.Close())
	}
	return errors.Join(errs...)
}
