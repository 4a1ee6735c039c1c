package metrics

import (
	"context"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// Events counts the events a channel hands h (the engine) by channel and kind, times
// each through it, and counts what each did to its conversation as Turns does.
func (m *Metrics) Events(h bot.EventHandler) bot.EventHandler {
	return &timedHandler{m: m, next: h}
}

type timedHandler struct {
	m    *Metrics
	next bot.EventHandler
}

func (t *timedHandler) Handle(ctx context.Context, ev bot.Event) (bot.Outcome, error) {
	start := time.Now()
	out, err := t.next.Handle(ctx, ev)
	ch := string(ev.Conversation.Channel)
	t.m.eventSeconds.WithLabelValues(ch).Observe(time.Since(start).Seconds())
	t.m.events.WithLabelValues(ch, string(ev.Kind)).Inc()
	if err != nil {
		t.m.eventErrors.WithLabelValues(ch).Inc()
	} else {
		t.m.countTurn(ev, out)
	}
	return out, err
}
