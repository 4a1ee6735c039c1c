// Command sangkien is the Sáng kiến gateway: citizens of Hanoi propose initiatives for
// the city's programs and give feedback through messaging channels.
//
//	sangkien serve          the gateway: HTTP server and outbox worker
//	sangkien chat [--lang en]  a citizen's conversation in this terminal
//	sangkien intake pending|failed|retry  the outbox, for operators
//	sangkien staff …, sangkien broadcast …  console accounts; broadcasts
//
// Configuration comes from environment variables; `sangkien --help` lists them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/cmdline"
	"github.com/sangkien/sangkien/console"
	"github.com/sangkien/sangkien/health"
	"github.com/sangkien/sangkien/integrations/intake"
)

func main() {
	// Set here, not in run: it is a package-wide setting of go-redis.
	redisstore.RouteClientLogs(slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "redis"))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sangkien:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its surroundings passed in so that tests call it
// with buffers and an environment of their own.
func run(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("no command given")
	}
	std := cmdline.Stdio{In: stdin, Out: stdout, Err: stderr}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, env, stdout, stderr)
	case "chat":
		return chat(ctx, rest, env, stdin, stdout, stderr)
	case "intake":
		return intake.Command(ctx, rest, std, adminStore(env, stderr, "the outbox lives", outboxAdmin))
	case "staff":
		return console.StaffCommand(ctx, rest, std, adminStore(env, stderr, "staff accounts live", staffChanges))
	case "broadcast":
		return broadcast.Command(ctx, rest, std, adminStore(env, stderr, "broadcasts live", broadcasts))
	case "healthcheck":
		return health.Command(ctx, rest, std, env, envVars)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return nil
	default:
		usage(stderr)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Sáng kiến gateway: citizens propose initiatives and give feedback to the city.

Usage:
  sangkien serve               run the gateway (HTTP server, outbox worker)
  sangkien healthcheck         exit 0 when the gateway on HTTP_ADDR is ready (Docker)
  sangkien chat [--lang en] [--id ID]
                               talk to the bot in this terminal
  sangkien intake pending|failed|retry <id>|retry --all
                               submissions waiting for the intake, refused
                               ones, and sending refused ones again
  sangkien staff add|list|disable|password|token
                               the operator console's staff accounts
  sangkien broadcast send|list|show|cancel
                               one message to many citizens, and its progress
  sangkien <command> --help    the options of one command

`)
	writeEnvHelp(w)
}
