package flows

import (
	"strings"

	"github.com/sangkien/sangkien/bot"
)

// A draft whose program closed while the citizen was writing is told so at submit,
// kindly, and nothing is lost: it waits at the "closed" step, which offers to send it
// to another open program (the review again, the field asked anew when the new
// program has no such field), to send it as feedback about the closed program (its
// content and contact carried over, nothing asked again), or to keep it and go back
// to the menu. A kept draft comes back to this question when the citizen resumes it,
// with the programs open by then.

// closedStep is the question of a draft its program can no longer take.
func closedStep() *step { return &step{ask: askClosed, answer: answerClosed} }

// Payloads of the closed step.
const (
	closedMove     = "move:" // + the program's id
	closedFeedback = "as_feedback"
	closedKeep     = "keep"
)

// closedAtSubmit leads a draft whose program closed from the submit to the closed step.
func (t *turn) closedAtSubmit() error {
	if err := t.fire(t.machine(t.r.flows[bot.KindInitiative]), "closed"); err != nil {
		return err
	}
	t.r.log.InfoContext(t.ctx, "initiative's program closed before it was sent: the draft is kept", "conversation",
		bot.MaskID(t.s.Conversation.Key()), "program", t.draft().ProgramID)
	t.ask()
	return nil
}

func askClosed(t *turn) bot.Reply {
	name := t.draft().ProgramID // a program since taken out of the catalog has no name left
	if p, ok := t.program(); ok {
		name = p.Name.In(t.l.Lang())
	}
	var choices []bot.Choice
	for _, o := range t.programs.OpenAt(t.now) {
		choices = append(choices, bot.Choice{Label: t.tr("closed.move", map[string]any{"Program": o.Name.In(t.l.Lang())}),
			Payload: closedMove + o.ID})
	}
	text := t.tr("closed.ask", map[string]any{"Program": name}) + "\n\n"
	if len(choices) > 0 {
		text += t.tr("closed.options_other")
	} else {
		text += t.tr("closed.options")
	}
	choices = append(choices, t.button("closed.feedback", closedFeedback), t.button("closed.keep", closedKeep))
	return bot.Reply{Text: text, Choices: choices}
}

func answerClosed(t *turn, in input) outcome {
	switch {
	case strings.HasPrefix(in.payload, closedMove):
		p, ok := t.programs.OpenAt(t.now).Get(strings.TrimPrefix(in.payload, closedMove))
		if !ok {
			return outcome{miss: t.tr("miss.choice")}
		}
		d := t.draft()
		d.ProgramID = p.ID
		note := t.tr("closed.moved", map[string]any{"Program": p.Name.In(t.l.Lang())})
		if _, ok := p.Field(d.Field); ok {
			return outcome{event: "review", note: note}
		}
		d.Field = ""
		if len(p.Fields) == 1 {
			d.Field = p.Fields[0].ID
			return outcome{event: "review", note: note}
		}
		return outcome{event: "edit_field", note: note}
	case in.payload == closedFeedback:
		return outcome{event: "as_feedback"}
	case in.payload == closedKeep:
		return outcome{event: "keep"}
	}
	return outcome{miss: t.tr("miss.choice")}
}

// sendAsFeedback sends the draft as feedback about its closed program: what the
// citizen wrote (title, description, benefit, place, files) and their contact go as
// they are, under a feedback reference.
func (t *turn) sendAsFeedback() error {
	st := &t.s.State
	d := t.draft()
	d.Kind, d.Topic, d.TopicRef = bot.KindFeedback, topicProgram, d.ProgramID
	st.Flow, st.Step, st.Editing = bot.KindFeedback, "submitted", false
	return t.submitFeedback()
}

// keepDraft leaves the draft at the closed step and shows the menu.
func (t *turn) keepDraft() error {
	t.s.State.Step = "closed"
	t.say(t.tr("closed.kept", map[string]any{"Days": int(draftTTL.Hours() / 24)}), t.menuChoices()...)
	return nil
}
