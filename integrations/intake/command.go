package intake

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/cmdline"
)

// Command is `sangkien intake pending|failed|retry|dead`: what operators see of the
// outbox, and how they send refused submissions again. It opens the outbox with open only
// once the arguments are read, so that --help and a mistake need no Redis; the close
// open returns is called at the end.
func Command(ctx context.Context, args []string, std cmdline.Stdio, open func() (OutboxAdmin, func(), error)) error {
	a, done, err := parseArgs(args, std)
	if done {
		return err
	}
	outbox, closeOutbox, err := open()
	if err != nil {
		return err
	}
	defer closeOutbox()
	admin := Admin{Outbox: outbox, Out: std.Out, Zone: bot.HoChiMinh()}
	err = admin.Run(ctx, a.sub, a.ids, a.all)
	if errors.Is(err, ErrUnknownCommand) {
		usage(std.Err)
		return fmt.Errorf("intake: %w", err)
	}
	return err
}

// commandArgs are the operator command, its submission ids and --all.
type commandArgs struct {
	sub string
	ids []string
	all bool
}

// parseArgs reads `intake <command> [ids…] [--all]`; done means there is nothing more
// to do (help was shown, or err says what is wrong).
func parseArgs(args []string, std cmdline.Stdio) (a commandArgs, done bool, err error) {
	fs := flag.NewFlagSet("intake", flag.ContinueOnError)
	all := fs.Bool("all", false, "retry: every failed submission")
	args = cmdline.Words(args, &a.sub)
	a.ids, args = cmdline.Operands(args)
	if done, err := cmdline.ParseFlags(fs, args, std.Out, usage); done {
		return a, true, err
	}
	a.all = *all
	switch {
	case a.sub == "":
		usage(std.Err)
		return a, true, errors.New("intake: pending, failed, retry or dead?")
	case a.sub == "retry" && (a.all == (len(a.ids) > 0)):
		return a, true, errors.New("intake retry: give submission ids or --all (see sangkien intake --help)")
	case a.sub != "retry" && (len(a.ids) > 0 || a.all):
		return a, true, fmt.Errorf("intake %s: takes no arguments", a.sub)
	}
	return a, false, nil
}

// usage is Command's --help.
func usage(w io.Writer) {
	fmt.Fprint(w, "Usage: sangkien intake pending|failed|retry <id>|retry --all\n\n"+AdminHelp+
		"\nReads REDIS_URL and REDIS_PREFIX, as serve does.\n\n")
}
