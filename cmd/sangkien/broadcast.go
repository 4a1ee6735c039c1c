package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/broadcast"
)

// broadcastCommand is `sangkien broadcast send|list|show|cancel`.
func broadcastCommand(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("broadcast", flag.ContinueOnError)
	audience := fs.String("audience", "subscribed", "send: subscribed, all, program:ID or draft:ID")
	channel := fs.String("channel", "", "send: only this channel (telegram, zalo)")
	lang := fs.String("lang", "", "send: only citizens writing this language (vi, en)")
	textVI := fs.String("text-vi", "", "send: the Vietnamese text (required)")
	textEN := fs.String("text-en", "", "send: the English text (Vietnamese when empty)")
	at := fs.String("at", "", "send: not before this time (RFC 3339); now when empty")
	asJSON := fs.Bool("json", false, "show: print the progress once, as JSON")
	sub, id := "", ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if done, err := parseFlags(fs, args, stdout, broadcastUsage); done {
		return err
	}
	store, closeStore, err := adminStore(env, stderr, "broadcasts live")
	if err != nil {
		return err
	}
	defer closeStore()
	a := broadcast.Admin{Store: store, Out: stdout}
	switch sub {
	case "send":
		q, err := bot.ParseAudience(*audience)
		if err != nil {
			return err
		}
		q.Channel, q.Lang = bot.Channel(*channel), *lang
		var when time.Time
		if *at != "" {
			if when, err = time.Parse(time.RFC3339, *at); err != nil {
				return fmt.Errorf("broadcast send --at %q: want RFC 3339, such as 2026-12-20T08:00:00+07:00", *at)
			}
		}
		_, err = a.Send(ctx, q, bot.Text{VI: *textVI, EN: *textEN}, when)
		return err
	case "list":
		return a.List(ctx)
	case "show", "cancel":
		if id == "" {
			return fmt.Errorf("broadcast %s: which broadcast? (its id, from broadcast list)", sub)
		}
		if sub == "cancel" {
			return a.Cancel(ctx, id)
		}
		return a.Show(ctx, id, *asJSON)
	}
	broadcastUsage(stderr)
	return errors.New("broadcast: send, list, show or cancel?")
}

func broadcastUsage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  sangkien broadcast send --audience subscribed|all|program:ID|draft:ID [--channel C] [--lang L]
                          --text-vi T [--text-en T] [--at RFC3339]
  sangkien broadcast list
  sangkien broadcast show ID [--json]
  sangkien broadcast cancel ID

Nobody who said stop is written to ("all" reaches the same citizens as "subscribed").
Reads REDIS_URL and REDIS_PREFIX, as serve does; serve sends.

`)
}
