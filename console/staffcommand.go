package console

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/cmdline"
)

// StaffCommand is `sangkien staff add|list|disable|password|token`: the console's
// accounts from a terminal. It opens the accounts and their audit trail with open only
// once the arguments are read, so that --help and a mistyped flag need no Redis; the
// close open returns is called at the end. Every change is recorded as the console
// records its own: by no staff member, from the command line.
func StaffCommand(ctx context.Context, args []string, std cmdline.Stdio, open func() (StaffChanges, func(), error)) error {
	fs := flag.NewFlagSet("staff", flag.ContinueOnError)
	email := fs.String("email", "", "add: the account's email")
	name := fs.String("name", "", "add: the staff member's name")
	role := fs.String("role", "operator", "add: operator or admin")
	pwFile := fs.String("password-file", "", "add, password: read the password from this file")
	var sub, target string
	args = cmdline.Words(args, &sub, &target)
	if done, err := cmdline.ParseFlags(fs, args, std.Out, staffUsage); done {
		return err
	}
	changes, closeStore, err := open()
	if err != nil {
		return err
	}
	defer closeStore()
	by := Actor{Addr: CommandLine}
	password := func() (string, error) { return ReadPassword(*pwFile, std.In, std.Err) }
	warnLost := func(err error) error {
		if errors.Is(err, ErrAuditLost) {
			fmt.Fprintf(std.Err, "warning: %v\n", err)
			return nil
		}
		return err
	}

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
		fmt.Fprintf(std.Out, "added %s (%s)\n", bot.NormalizeEmail(*email), r)
		return nil
	case "list":
		return changes.Accounts.List(ctx, std.Out)
	case "disable", "password", "token":
		if target == "" {
			return fmt.Errorf("staff %s: give the account's email", sub)
		}
	default:
		staffUsage(std.Err)
		return errors.New("staff: add, list, disable, password or token?")
	}
	switch sub {
	case "disable":
		if err := warnLost(changes.Disable(ctx, by, target)); err != nil {
			return fmt.Errorf("staff disable: %w", err)
		}
		fmt.Fprintf(std.Out, "disabled %s\n", bot.NormalizeEmail(target))
	case "password":
		pw, err := password()
		if err != nil {
			return err
		}
		if err := warnLost(changes.SetPassword(ctx, by, target, pw)); err != nil {
			return fmt.Errorf("staff password: %w", err)
		}
		fmt.Fprintf(std.Out, "password changed for %s; its sessions ended\n", bot.NormalizeEmail(target))
	case "token":
		tok, err := changes.NewToken(ctx, by, target)
		if err = warnLost(err); err != nil {
			return fmt.Errorf("staff token: %w", err)
		}
		fmt.Fprintln(std.Out, tok)
	}
	return nil
}

// staffUsage is StaffCommand's --help.
func staffUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: sangkien staff add|list|disable <email>|password <email>|token <email>\n\n"+StaffHelp+
		"\nReads REDIS_URL and REDIS_PREFIX, as serve does.\n\n")
}
