package broadcast_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
	"github.com/sangkien/sangkien/bot/redisstore/redistest"
	"github.com/sangkien/sangkien/broadcast"
)

// A broadcast made for later is listed, cancelled once (the second time says there is
// nothing left to cancel), and an audience or a text the flows cannot send is refused.
func TestAdminSendListCancel(t *testing.T) {
	ctx := context.Background()
	st := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	var out strings.Builder
	a := broadcast.Admin{Store: st, Out: &out}
	q, err := bot.ParseAudience("program:den-duong")
	if err != nil || q != (bot.AudienceQuery{Kind: bot.AudienceProgram, Program: "den-duong"}) {
		t.Fatalf("ParseAudience = %+v, %v", q, err)
	}
	for _, bad := range []string{"everyone", "program:", "subscribed:x"} {
		if _, err := bot.ParseAudience(bad); err == nil {
			t.Errorf("ParseAudience(%q) accepted", bad)
		}
	}
	if _, err := a.Send(ctx, q, bot.Text{EN: "English only"}, time.Time{}); err == nil {
		t.Error("a broadcast without its Vietnamese text was made")
	}
	b, err := a.Send(ctx, q, bot.Text{VI: "Nhắc hạn"}, time.Now().Add(time.Hour))
	if err != nil || !strings.HasPrefix(out.String(), b.ID+"\n") || !strings.Contains(out.String(), "about 0 recipients") {
		t.Fatalf("send: %v %q", err, out.String())
	}
	out.Reset()
	if err := a.List(ctx); err != nil || !strings.Contains(out.String(), b.ID) || !strings.Contains(out.String(), "scheduled") {
		t.Errorf("list: %v %q", err, out.String())
	}
	out.Reset()
	if err := a.Cancel(ctx, b.ID); err != nil || !strings.Contains(out.String(), "cancelled; 0 messages") {
		t.Errorf("cancel: %v %q", err, out.String())
	}
	if err := a.Cancel(ctx, b.ID); !errors.Is(err, bot.ErrNotCancellable) {
		t.Errorf("cancelled twice: %v", err)
	}
	if err := a.Cancel(ctx, "nope"); !errors.Is(err, bot.ErrUnknownBroadcast) {
		t.Errorf("cancel an unknown one: %v", err)
	}
}
