package metrics

import (
	"context"
	"errors"

	"github.com/sangkien/sangkien/bot"
)

// Intake counts the attempts to hand a submission to in (the city's intake), by the
// submission's kind and the outcome: delivered, retried (a timeout, a 5xx, "wait") or
// refused (the intake's answer says never).
func (m *Metrics) Intake(in bot.Intake) bot.Intake { return &countingIntake{m: m, next: in} }

type countingIntake struct {
	m    *Metrics
	next bot.Intake
}

func (c *countingIntake) Deliver(ctx context.Context, s bot.Submission) (bot.Receipt, error) {
	rec, err := c.next.Deliver(ctx, s)
	outcome := "delivered"
	if err != nil {
		outcome = "retried"
		var se *bot.SendError
		if errors.As(err, &se) && (se.Failure == bot.Permanent || se.Failure == bot.Gone) {
			outcome = "refused"
		}
	}
	c.m.intakeDeliveries.WithLabelValues(s.Kind, outcome).Inc()
	return rec, err
}
