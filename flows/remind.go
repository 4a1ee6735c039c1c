package flows

import "github.com/sangkien/sangkien/bot"

// cmdRemind is the "Remind me" button of a program ("remind:<program id>"): the
// citizen follows the program (bot.Profile.Follow), so that its reminders before the
// deadline reach them, without starting a draft. It works from any step, like a
// command: the button may be pressed on an earlier message.
const (
	cmdRemind     = "remind"
	payloadRemind = cmdRemind + ":"
)

// remindChoice is the "Remind me" button of p.
func (t *turn) remindChoice(p bot.Program) bot.Choice {
	return bot.Choice{Label: t.tr("remind.button", map[string]any{"Program": p.Name.In(t.l.Lang())}), Payload: payloadRemind + p.ID}
}

// remind makes the citizen follow a program that has not closed, and says so; one who
// said stop is told the reminders cannot reach them until they subscribe again. Asked
// at the program question of a draft with nothing in it yet, it ends the draft: the
// citizen chose to come back later.
func (t *turn) remind(id string) {
	p, ok := t.programs.Get(id)
	if !ok || !t.now.Before(p.Deadline) {
		t.say(t.tr("remind.closed"))
		t.current()
		return
	}
	t.s.Profile.Follow(p.ID)
	text := t.tr("remind.done", map[string]any{"Program": p.Name.In(t.l.Lang()), "Deadline": date(p.Deadline)})
	var choices []bot.Choice
	if t.s.Profile.OptedOut {
		text += "\n\n" + t.tr("remind.opted_out")
		choices = append(choices, t.button("remind.subscribe", "cmd:"+cmdSubscribe))
	}
	st := &t.s.State
	if st.Flow == bot.KindInitiative && st.Step == "program" && !hasAnswers(st.Draft) {
		t.clear()
		t.say(text, append(choices, t.button("menu.initiative", "cmd:"+cmdInitiative), t.button("choice.menu", "cmd:"+cmdMenu))...)
		return
	}
	t.say(text, choices...)
	t.current()
}
