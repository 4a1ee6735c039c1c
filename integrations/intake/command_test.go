package intake_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/cmdline"
	"github.com/sangkien/sangkien/integrations/intake"
)

// outboxOpener counts how often Command opened the outbox and closed it again.
type outboxOpener struct {
	outbox         intake.OutboxAdmin
	err            error
	opened, closed int
}

func (o *outboxOpener) open() (intake.OutboxAdmin, func(), error) {
	o.opened++
	if o.err != nil {
		return nil, nil, o.err
	}
	return o.outbox, func() { o.closed++ }, nil
}

// intakeCommand runs Command with buffers for its terminal.
func intakeCommand(o *outboxOpener, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = intake.Command(context.Background(), args, cmdline.Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut}, o.open)
	return out.String(), errOut.String(), err
}

// Help, a missing command and arguments a command does not take are answered before
// the outbox is opened: they work without Redis.
func TestCommandParsesBeforeOpening(t *testing.T) {
	o := &outboxOpener{err: errors.New("no outbox in this test")}
	out, errOut, err := intakeCommand(o, "--help")
	if err != nil || !strings.HasPrefix(out, "Usage: sangkien intake pending|failed|retry <id>|retry --all\n\n") ||
		!strings.Contains(out, intake.AdminHelp) || errOut != "" {
		t.Errorf("--help: %v, stdout %q, stderr %q", err, out, errOut)
	}
	for _, tt := range []struct {
		args      []string
		want      string
		wantUsage bool
	}{
		{nil, "intake: pending, failed, retry or dead?", true},
		{[]string{"--all"}, "intake: pending, failed, retry or dead?", true},
		{[]string{"retry"}, "intake retry: give submission ids or --all (see sangkien intake --help)", false},
		{[]string{"retry", "s1", "--all"}, "intake retry: give submission ids or --all (see sangkien intake --help)", false},
		{[]string{"pending", "s1"}, "intake pending: takes no arguments", false},
		{[]string{"failed", "--all"}, "intake failed: takes no arguments", false},
		{[]string{"retry", "--everything"}, "intake: flag provided but not defined: -everything (see sangkien intake --help)", false},
		{[]string{"retry", "--all", "s1"}, `intake: unexpected argument "s1" (see sangkien intake --help)`, false},
	} {
		out, errOut, err := intakeCommand(o, tt.args...)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: %v; want %q", tt.args, err, tt.want)
		}
		if got := strings.HasPrefix(errOut, "Usage:"); got != tt.wantUsage || out != "" {
			t.Errorf("%q: usage on stderr %v, want %v; stdout %q", tt.args, got, tt.wantUsage, out)
		}
	}
	if o.opened != 0 {
		t.Errorf("the outbox was opened %d times for help and mistakes", o.opened)
	}
	if _, _, err := intakeCommand(o, "pending"); err == nil || err.Error() != "no outbox in this test" {
		t.Errorf("pending without an outbox: %v", err)
	}
}

// A command Run does not know shows the usage on stderr; the known ones print their
// tables. Each closes what it opened.
func TestCommandRuns(t *testing.T) {
	o := &outboxOpener{outbox: redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})}
	out, errOut, err := intakeCommand(o, "resend")
	if err == nil || err.Error() != `intake: unknown command "resend"` || !strings.HasPrefix(errOut, "Usage: sangkien intake") || out != "" {
		t.Errorf("resend: %v, stdout %q, stderr %q", err, out, errOut)
	}
	for args, want := range map[string]string{"pending": "0 pending\n", "failed": "0 failed\n", "dead": "0 dead\n",
		"retry --all": "0 submission(s) back in the outbox\n"} {
		if out, _, err := intakeCommand(o, strings.Fields(args)...); err != nil || !strings.HasSuffix(out, want) {
			t.Errorf("%s: %v, %q; want it to end with %q", args, err, out, want)
		}
	}
	if o.opened != 5 || o.closed != 5 {
		t.Errorf("opened %d, closed %d; want 5 each", o.opened, o.closed)
	}
}
