package console_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/cmdline"
	"github.com/sangkien/sangkien/console"
)

// staffOpener counts how often StaffCommand opened the accounts and closed them again.
type staffOpener struct {
	changes        console.StaffChanges
	err            error
	opened, closed int
}

func (o *staffOpener) open() (console.StaffChanges, func(), error) {
	o.opened++
	if o.err != nil {
		return console.StaffChanges{}, nil, o.err
	}
	return o.changes, func() { o.closed++ }, nil
}

// staffCommand runs StaffCommand with stdin and buffers for its terminal.
func staffCommand(o *staffOpener, stdin string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = console.StaffCommand(context.Background(), args, cmdline.Stdio{In: strings.NewReader(stdin), Out: &out, Err: &errOut}, o.open)
	return out.String(), errOut.String(), err
}

// brokenAudit loses every record, as an audit trail whose Redis went away would.
type brokenAudit struct{ console.AuditTrail }

func (brokenAudit) Record(context.Context, bot.AuditEntry) error {
	return errors.New("redis: connection refused")
}

// Help and mistakes in the flags are answered before the accounts are opened: they
// work without Redis.
func TestStaffCommandParsesBeforeOpening(t *testing.T) {
	o := &staffOpener{err: errors.New("no accounts in this test")}
	out, errOut, err := staffCommand(o, "", "--help")
	if err != nil || !strings.HasPrefix(out, "Usage: sangkien staff add|list|disable <email>|password <email>|token <email>\n\n"+console.StaffHelp) || errOut != "" {
		t.Errorf("--help: %v, stdout %q, stderr %q", err, out, errOut)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "--mail", "a@hanoi.gov.vn"}, "staff: flag provided but not defined: -mail (see sangkien staff --help)"},
		{[]string{"disable", "a@hanoi.gov.vn", "b@hanoi.gov.vn"}, `staff: unexpected argument "b@hanoi.gov.vn" (see sangkien staff --help)`},
	} {
		if _, _, err := staffCommand(o, "", tt.args...); err == nil || err.Error() != tt.want {
			t.Errorf("%q: %v; want %q", tt.args, err, tt.want)
		}
	}
	if o.opened != 0 {
		t.Errorf("the accounts were opened %d times for help and bad flags", o.opened)
	}
	if _, _, err := staffCommand(o, "", "list"); err == nil || err.Error() != "no accounts in this test" {
		t.Errorf("list without accounts: %v", err)
	}
}

// An unknown or missing sub-command shows the usage on stderr; a missing email or role
// says what to give; a change whose audit record is lost is made, with a warning.
func TestStaffCommandMistakesAndLostAudit(t *testing.T) {
	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	changes := console.StaffChanges{Accounts: accounts(t), Audit: st.Audit(redisstore.AuditOptions{})}
	o := &staffOpener{changes: changes}
	for _, tt := range []struct {
		args      []string
		want      string
		wantUsage bool
	}{
		{nil, "staff: add, list, disable, password or token?", true},
		{[]string{"fire", "a@hanoi.gov.vn"}, "staff: add, list, disable, password or token?", true},
		{[]string{"disable"}, "staff disable: give the account's email", false},
		{[]string{"token", "--email", "a@hanoi.gov.vn"}, "staff token: give the account's email", false},
		{[]string{"add", "--name", "Lan"}, "staff add: give --email, --name and --role", false},
		{[]string{"add", "a@hanoi.gov.vn", "--email", "a@hanoi.gov.vn"}, "staff add: give --email, --name and --role", false},
		{[]string{"add", "--email", "a@hanoi.gov.vn", "--name", "Lan", "--role", "boss"}, "staff add: unknown role", false},
	} {
		out, errOut, err := staffCommand(o, "", tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v; want %q", tt.args, err, tt.want)
		}
		if got := strings.HasPrefix(errOut, "Usage:"); got != tt.wantUsage || out != "" {
			t.Errorf("%q: usage on stderr %v, want %v; stdout %q", tt.args, got, tt.wantUsage, out)
		}
	}
	if o.opened != 7 || o.closed != 7 {
		t.Errorf("opened %d, closed %d; want 7 each", o.opened, o.closed)
	}

	o.changes.Audit = brokenAudit{}
	out, errOut, err := staffCommand(o, lanPassword+"\n", "add", "--email", " LAN@hanoi.gov.vn", "--name", " Nguyễn Thị Lan ")
	if err != nil || out != "added lan@hanoi.gov.vn (operator)\n" ||
		!strings.Contains(errOut, "warning: the change was made but its audit record was lost") {
		t.Fatalf("add with a lost audit: %v, stdout %q, stderr %q", err, out, errOut)
	}
	if out, _, err := staffCommand(o, "", "list"); err != nil || !strings.Contains(out, "Nguyễn Thị Lan") || !strings.Contains(out, "1 account") {
		t.Errorf("list: %v\n%s", err, out)
	}
	if out, _, err := staffCommand(o, "", "token", lan); err != nil || !strings.HasPrefix(out, "sk_") {
		t.Errorf("token: %v, %q", err, out)
	}
}
