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
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/console"
)

// staffCommand is `sangkien staff add|list|disable|password|token`: the console's
// accounts.
func staffCommand(ctx context.Context, args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("staff", flag.ContinueOnError)
	email := fs.String("email", "", "add: the account's email")
	name := fs.String("name", "", "add: the staff member's name")
	role := fs.String("role", "operator", "add: operator or admin")
	pwFile := fs.String("password-file", "", "add, password: read the password from this file")
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	var target string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		target, args = args[0], args[1:]
	}
	if done, err := parseFlags(fs, args, stdout, staffUsage); done {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("staff %s: unexpected %q", sub, fs.Arg(0))
	}
	store, closeStore, err := adminStore(env, stderr, "staff accounts live")
	if err != nil {
		return err
	}
	defer closeStore()
	accounts := console.Accounts{Store: store.Staff(redisstore.StaffOptions{}), Cost: staffBcryptCost, Zone: bot.HoChiMinh()}
	retention, err := staffAuditRetention(env)
	if err != nil {
		return err
	}
	// Every change is recorded as the console records its own: by no staff member,
	// from the command line.
	changes := console.StaffChanges{Accounts: accounts, Audit: store.Audit(redisstore.AuditOptions{Retention: retention})}
	by := console.Actor{Addr: console.CommandLine}
	warnLost := func(err error) error {
		if errors.Is(err, console.ErrAuditLost) {
			fmt.Fprintf(stderr, "warning: %v\n", err)
			return nil
		}
		return err
	}
	password := func() (string, error) { return console.ReadPassword(*pwFile, stdin, stderr) }

	switch sub {
	case "add":
		if *email == "" || target != "" {
			return errors.New("staff add: give --email, --name and --role")
		}
		r, err := bot.ParseRole(*role)
		if err != nil {
			return fmt.Errorf("staff add: %w", err)
		}
		pw, err := password()
		if err != nil {
			return err
		}
		if err := warnLost(changes.Add(ctx, by, *email, strings.TrimSpace(*name), r, pw)); err != nil {
			return fmt.Errorf("staff add: %w", err)
		}
		fmt.Fprintf(stdout, "added %s (%s)\n", bot.NormalizeEmail(*email), r)
		return nil
	case "list":
		return accounts.List(ctx, stdout)
	case "disable", "password", "token":
		if target == "" {
			return fmt.Errorf("staff %s: give the account's email", sub)
		}
	default:
		staffUsage(stderr)
		return errors.New("staff: add, list, disable, password or token?")
	}
	switch sub {
	case "disable":
		if err := warnLost(changes.Disable(ctx, by, target)); err != nil {
			return fmt.Errorf("staff disable: %w", err)
		}
		fmt.Fprintf(stdout, "disabled %s\n", bot.NormalizeEmail(target))
	case "password":
		pw, err := password()
		if err != nil {
			return err
		}
		if err := warnLost(changes.SetPassword(ctx, by, target, pw)); err != nil {
			return fmt.Errorf("staff password: %w", err)
		}
		fmt.Fprintf(stdout, "password changed for %s; its sessions ended\n", bot.NormalizeEmail(target))
	case "token":
		tok, err := changes.NewToken(ctx, by, target)
		if err = warnLost(err); err != nil {
			return fmt.Errorf("staff token: %w", err)
		}
		fmt.Fprintln(stdout, tok)
	}
	return nil
}

// staffAuditRetention is CONSOLE_AUDIT_RETENTION, as serve reads it: the trail is
// trimmed by age as it is written, so the command must not trim it shorter.
func staffAuditRetention(env func(string) string) (time.Duration, error) {
	v := env("CONSOLE_AUDIT_RETENTION")
	if v == "" {
		return redisstore.DefaultAuditRetention, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Minute {
		return 0, fmt.Errorf("CONSOLE_AUDIT_RETENTION=%q: want a duration of a minute or more, such as 17520h", v)
	}
	return d, nil
}

// staffBcryptCost is the cost of staff passwords' hashes; tests lower it.
var staffBcryptCost = 12

func staffUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: sangkien staff add|list|disable <email>|password <email>|token <email>\n\n"+console.StaffHelp+
		"\nReads REDIS_URL and REDIS_PREFIX, as serve does.\n\n")
}
