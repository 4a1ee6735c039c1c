package broadcast

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/cmdline"
)

// Command is `sangkien broadcast send|list|show|cancel`. It opens the store with open
// only once the arguments are read, so that --help and a mistyped flag need no Redis;
// the close open returns is called at the end.
func Command(ctx context.Context, args []string, std cmdline.Stdio, open func() (AdminStore, func(), error)) error {
	fs := flag.NewFlagSet("broadcast", flag.ContinueOnError)
	audience := fs.String("audience", "subscribed", "send: subscribed, all, program:ID or draft:ID")
	channel := fs.String("channel", "", "send: only this channel (telegram, zalo)")
	lang := fs.String("lang", "", "send: only citizens writing this language (vi, en)")
	textVI := fs.String("text-vi", "", "send: the Vietnamese text (required)")
	textEN := fs.String("text-en", "", "send: the English text (Vietnamese when empty)")
	at := fs.String("at", "", "send: not before this time (RFC 3339); now when empty")
	asJSON := fs.Bool("json", false, "show: print the progress once, as JSON")
	var sub, id string
	args = cmdline.Words(args, &sub, &id)
	if done, err := cmdline.ParseFlags(fs, args, std.Out, usage); done {
		return err
	}
	store, closeStore, err := open()
	if err != nil {
		return err
	}
	defer closeStore()
	a := Admin{Store: store, Out: std.Out}
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
	usage(std.Err)
	return errors.New("broadcast: send, list, show or cancel?")
}

// usage is Command's --help.
func usage(w io.Writer) {
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
