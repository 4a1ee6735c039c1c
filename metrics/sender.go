package metrics

import (
	"context"
	"errors"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/bot/redisstore"
)

// Sender counts the sends of s by channel, lane and outcome, and the waits a 429 asks
// for. It is a bot.Typer when s is one.
func (m *Metrics) Sender(s bot.Sender) bot.Sender {
	c := &countingSender{m: m, next: s}
	if t, ok := s.(bot.Typer); ok {
		return &typingSender{countingSender: c, typer: t}
	}
	return c
}

type countingSender struct {
	m    *Metrics
	next bot.Sender
}

func (c *countingSender) Send(ctx context.Context, o bot.Outbound) error {
	err := c.next.Send(ctx, o)
	ch, lane := string(o.Conversation.Channel), redisstore.LaneReplies
	if o.Broadcast != "" {
		lane = redisstore.LaneBulk
	}
	outcome := "sent"
	if err != nil {
		outcome = "retried" // a failure without its meaning is tried again
		var se *bot.SendError
		if errors.As(err, &se) {
			switch se.Failure {
			case bot.RateLimited:
				outcome = "rate_limited"
				c.m.rateLimitWait.WithLabelValues(ch, lane).Add(se.RetryAfter.Seconds())
			case bot.Held:
				outcome = "held"
			case bot.Permanent:
				outcome = "failed"
			case bot.Gone:
				outcome = "gone"
			}
		}
	}
	c.m.sends.WithLabelValues(ch, lane, outcome).Inc()
	return err
}

type typingSender struct {
	*countingSender
	typer bot.Typer
}

func (t *typingSender) ShowTyping(ctx context.Context, conv bot.ConversationRef) error {
	return t.typer.ShowTyping(ctx, conv)
}
