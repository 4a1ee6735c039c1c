package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/cmdline"
	"github.com/sangkien/sangkien/integrations/terminal"
	"github.com/sangkien/sangkien/lifecycle"
	"github.com/sangkien/sangkien/logging"
)

// drainTimeout bounds how long chat waits at the end for its submissions to reach the
// intake file.
const drainTimeout = 3 * time.Second

// chat runs a citizen's conversation in the terminal against the same engine, flows and
// Redis as serve, with the outbox worker writing submissions to the intake file.
func chat(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	lang := fs.String("lang", "", "the citizen's language hint: vi or en (default: Vietnamese)")
	id := fs.String("id", "local", "conversation id: the same id continues the same conversation")
	if done, err := cmdline.ParseFlags(fs, args, stdout, chatUsage); done {
		return err
	}
	tc := terminal.Config{ID: *id, Lang: *lang, Out: stdout}
	if err := tc.Check(); err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	if env("LOG_LEVEL") == "" {
		// The terminal is the conversation: only warnings interrupt it.
		env = withDefault(env, "LOG_LEVEL", "warn")
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	cfg.Intake.Kind = "file" // the terminal is for trials: it never posts to the city
	// An outbox of its own: a chat beside serve on one Redis delivers what it made to
	// its file, and serve never sends the chat's trials to the city.
	cfg.Outbox = "chat"
	log := cfg.Log.New(stderr, logging.Text)
	parts := &lifecycle.Parts{Log: log}
	defer func() { _ = parts.Stop(lifecycle.ShutdownTimeout) }()
	g, err := newGateway(cfg, log, bot.Terminal)
	if err != nil {
		return err
	}
	parts.Add("gateway", func(context.Context) error {
		if err := g.Close(); err != nil {
			log.Error("close", "err", err)
		}
		return nil
	})
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	err = g.store.Ping(pctx)
	cancel()
	if err != nil {
		return fmt.Errorf("REDIS_URL: Redis does not answer: %w", err)
	}

	sink := terminal.Watch(g.sink)
	w := g.worker(sink)
	w.Block = 250 * time.Millisecond // a short poll keeps the exit prompt
	parts.Run("outbox worker", func(ctx context.Context) { _ = w.Run(ctx) })

	tc.Engine, tc.News, tc.Catalog = g.engine, g.store, g.catalog
	t, err := terminal.New(tc)
	if err != nil {
		return err
	}
	if err := t.Chat(ctx, stdin, g.sink.Path()); err != nil {
		return err
	}
	t.Finish(ctx, sink, g.sink.Path(), drainTimeout)
	return nil
}

func chatUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: sangkien chat [--lang en] [--id ID]\n\n"+terminal.Help+`Confirmed submissions are written to INTAKE_FILE by the outbox worker.

Options:
  --lang vi|en   the citizen's language hint (default: Vietnamese)
  --id ID        conversation id (default local); the same id resumes the conversation

`)
	writeEnvHelp(w)
}

// withDefault returns env with name defaulting to value.
func withDefault(env func(string) string, name, value string) func(string) string {
	return func(k string) string {
		if v := env(k); v != "" || k != name {
			return v
		}
		return value
	}
}
