package broadcast_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/cmdline"
)

// storeOpener counts how often Command opened its store and closed it again.
type storeOpener struct {
	store          broadcast.AdminStore
	err            error
	opened, closed int
}

func (o *storeOpener) open() (broadcast.AdminStore, func(), error) {
	o.opened++
	if o.err != nil {
		return nil, nil, o.err
	}
	return o.store, func() { o.closed++ }, nil
}

// broadcastCommand runs Command with buffers for its terminal.
func broadcastCommand(o *storeOpener, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = broadcast.Command(context.Background(), args, cmdline.Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut}, o.open)
	return out.String(), errOut.String(), err
}

// Help and mistakes in the flags are answered before any store is opened: they work
// without Redis.
func TestCommandParsesBeforeOpening(t *testing.T) {
	o := &storeOpener{err: errors.New("no store in this test")}
	out, errOut, err := broadcastCommand(o, "--help")
	if err != nil || !strings.HasPrefix(out, "Usage:\n  sangkien broadcast send --audience") || errOut != "" {
		t.Errorf("--help: %v, stdout %q, stderr %q", err, out, errOut)
	}
	if out, _, _ := broadcastCommand(o, "show", "-h"); !strings.Contains(out, "sangkien broadcast show ID [--json]") {
		t.Errorf("show -h: stdout %q", out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "--colour", "red"}, "broadcast: flag provided but not defined: -colour (see sangkien broadcast --help)"},
		{[]string{"show", "b1", "b2"}, `broadcast: unexpected argument "b2" (see sangkien broadcast --help)`},
	} {
		if _, _, err := broadcastCommand(o, tt.args...); err == nil || err.Error() != tt.want {
			t.Errorf("%q: %v; want %q", tt.args, err, tt.want)
		}
	}
	if o.opened != 0 {
		t.Errorf("the store was opened %d times for help and bad flags", o.opened)
	}
	if _, _, err := broadcastCommand(o, "list"); err == nil || err.Error() != "no store in this test" {
		t.Errorf("list without a store: %v", err)
	}
}

// An unknown or missing sub-command shows the usage on stderr; a missing id or a bad
// time says what to give. Each closes what it opened.
func TestCommandMistakes(t *testing.T) {
	o := &storeOpener{store: redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})}
	for _, tt := range []struct {
		args      []string
		want      string
		wantUsage bool
	}{
		{nil, "broadcast: send, list, show or cancel?", true},
		{[]string{"resend"}, "broadcast: send, list, show or cancel?", true},
		{[]string{"show"}, "broadcast show: which broadcast? (its id, from broadcast list)", false},
		{[]string{"cancel", "--json"}, "broadcast cancel: which broadcast? (its id, from broadcast list)", false},
		{[]string{"send", "--text-vi", "Nhắc hạn", "--at", "mai"}, `broadcast send --at "mai": want RFC 3339, such as 2026-12-20T08:00:00+07:00`, false},
		{[]string{"send", "--audience", "everyone", "--text-vi", "Nhắc hạn"}, "everyone", false},
	} {
		out, errOut, err := broadcastCommand(o, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v; want %q", tt.args, err, tt.want)
		}
		if got := strings.HasPrefix(errOut, "Usage:\n"); got != tt.wantUsage || out != "" {
			t.Errorf("%q: usage on stderr %v, want %v; stdout %q", tt.args, got, tt.wantUsage, out)
		}
	}
	if o.opened != 6 || o.closed != 6 {
		t.Errorf("opened %d, closed %d; want 6 each", o.opened, o.closed)
	}
}

// send prints the new broadcast's id, which list, show and cancel then take.
func TestCommandSendListShowCancel(t *testing.T) {
	o := &storeOpener{store: redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})}
	at := time.Now().Add(time.Hour).Format(time.RFC3339)
	out, _, err := broadcastCommand(o, "send", "--audience", "program:den-duong", "--channel", "telegram", "--lang", "en",
		"--text-vi", "Nhắc hạn", "--text-en", "Deadline", "--at", at)
	if err != nil || !strings.Contains(out, "about 0 recipients") {
		t.Fatalf("send: %v, %q", err, out)
	}
	id := strings.SplitN(out, "\n", 2)[0]
	if out, _, err := broadcastCommand(o, "list"); err != nil || !strings.Contains(out, id) || !strings.Contains(out, "program:den-duong telegram en") {
		t.Errorf("list: %v\n%s", err, out)
	}
	if out, _, err := broadcastCommand(o, "show", id, "--json"); err != nil || !strings.Contains(out, `"Deadline"`) {
		t.Errorf("show --json: %v\n%s", err, out)
	}
	if out, _, err := broadcastCommand(o, "cancel", id); err != nil || !strings.HasPrefix(out, id+" cancelled") {
		t.Errorf("cancel: %v, %q", err, out)
	}
}
