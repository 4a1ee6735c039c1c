package metrics

import (
	"context"

	"github.com/sangkien/sangkien/bot"
)

// Turns counts what each event h runs does to its conversation: the flows' steps
// reached, answered, refused, gone back from and abandoned (bot.StepMove), and staff's
// replies, first answers and console actions. The channels' handlers count it through
// Events; the console, whose actions are no channel's events, wraps the engine with
// Turns alone.
func (m *Metrics) Turns(h bot.EventHandler) bot.EventHandler {
	return &turnCounter{m: m, next: h}
}

type turnCounter struct {
	m    *Metrics
	next bot.EventHandler
}

func (c *turnCounter) Handle(ctx context.Context, ev bot.Event) (bot.Outcome, error) {
	out, err := c.next.Handle(ctx, ev)
	if err == nil {
		c.m.countTurn(ev, out)
	}
	return out, err
}

// consoleActions names the console's actions as its API does (console/api.go).
var consoleActions = map[bot.EventKind]string{
	bot.EventStaffJoin:     "takeover",
	bot.EventStaffReply:    "reply",
	bot.EventStaffHandback: "handback",
	bot.EventStaffResolve:  "resolve",
	bot.EventStaffNote:     "note",
	bot.EventStaffAssign:   "assign",
}

// countTurn counts what out says the event ev did, once: a duplicate did nothing.
func (m *Metrics) countTurn(ev bot.Event, out bot.Outcome) {
	if out.Duplicate {
		return
	}
	for _, s := range out.Steps {
		m.flowSteps.WithLabelValues(label(s.Flow), label(s.Step), string(s.Outcome)).Inc()
	}
	ch := string(ev.Conversation.Channel)
	if ev.Kind == bot.EventStaffReply || ev.Kind == bot.EventStaffMessage {
		m.staffReplies.WithLabelValues(ch).Inc()
	}
	if a := out.Answer; a != nil {
		m.staffFirstAnswer.WithLabelValues(ch).Observe(max(a.Answered.Sub(a.WaitingSince).Seconds(), 0))
	}
	if action, ok := consoleActions[ev.Kind]; ok {
		m.staffActions.WithLabelValues(action).Inc()
	}
}

// label keeps a label value bounded: the names come from the flows' code by way of
// stored sessions, and one that is not a plain name (a-z, 0-9, _, at most 32: a
// session written by hand) is counted as "other" rather than as a series of its own.
func label(s string) string {
	if s == "" || len(s) > 32 {
		return "other"
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return "other"
		}
	}
	return s
}
