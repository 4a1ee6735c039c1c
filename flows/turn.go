package flows

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// turn is one event being answered: the session it changes and the result it builds.
type turn struct {
	r   *Router
	ctx context.Context
	s   *bot.Session
	ev  bot.Event
	now time.Time
	// programs is the catalog as it stood when the turn began.
	programs bot.Programs
	l        *locales.Localizer
	res      bot.Result
	// filled names steps answered on the way by another step in this event
	// (a shared contact gives the name and the phone at once): they are not asked.
	filled map[string]bool
	// taken are the machines the turn uses, given back when it ends.
	taken []takenMachine
}

// input is an event read for the flows: a typed number or label of an offered
// button became its payload, a keyword became a command.
type input struct {
	kind        bot.EventKind
	text        string
	payload     string
	cmd         string
	arg         string
	contact     *bot.Contact
	location    *bot.Location
	attachments []bot.Attachment
}

// read classifies the event.
func (t *turn) read() input {
	ev := t.ev
	in := input{kind: ev.Kind, contact: ev.Contact, location: ev.Location, attachments: ev.Attachments}
	switch ev.Kind {
	case bot.EventCommand:
		in.cmd, in.arg = commandName(ev.Command), strings.TrimSpace(ev.Payload)
	case bot.EventButton:
		in.payload = ev.Payload
	case bot.EventText:
		in.text = clean(ev.Text)
		atName := t.s.State.Flow != "" && t.s.State.Step == "name" && t.s.State.Pending == ""
		if cmd, arg, ok := matchKeyword(in.text, atName); ok {
			in.cmd, in.arg = cmd, arg
			return in
		}
		in.payload = t.offered(in.text)
	case bot.EventAttachments:
		in.text = clean(ev.Text)
	}
	if cmd, arg, ok := payloadCommand(in.payload); ok {
		in.cmd, in.arg = cmd, arg
	}
	return in
}

// deliberate are the payloads of choices that throw something away at once, with no
// question first: "Rewrite from scratch" and "Remove the files sent" ("clear"), "Start
// over" at the resume question ("restart"), and "Back to the assistant", which ends
// the talk with a person ("cmd:cancel"; in human mode a "1" is meant for the
// operator). A digit typed at the description step is more likely text than a choice,
// so these are taken only from a button press or their whole label typed out. Choices
// that only lead to a confirmation ("discard" at the review) and the answers to a
// confirmation question ("yes") may still be typed: the confirmation is the second,
// deliberate step.
var deliberate = map[string]bool{"clear": true, "restart": true, "cmd:" + cmdCancel: true}

// offered finds the offered button a typed text names, by number ("2"), by label
// ("giao thong" for "🚦 Giao thông") or by the label's first words. A deliberate
// choice answers only to its whole label.
func (t *turn) offered(text string) string {
	choices := t.r.Offered(t.s)
	if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(text), ".")); err == nil {
		if n >= 1 && n <= len(choices) && !deliberate[choices[n-1].Payload] {
			return choices[n-1].Payload
		}
		return ""
	}
	f := fold(text)
	if f == "" {
		return ""
	}
	labels := make([]string, len(choices)) // folded once: both passes below read them
	for i, c := range choices {
		labels[i] = fold(c.Label)
		if labels[i] == f {
			return c.Payload
		}
	}
	// The first words of one label are enough ("submit" for "📨 Submit initiative",
	// "gui" for "Gửi sáng kiến"), when no other label starts with them.
	if len([]rune(f)) < 3 {
		return ""
	}
	match := ""
	for i, c := range choices {
		if !deliberate[c.Payload] && strings.HasPrefix(labels[i]+" ", f+" ") {
			if match != "" {
				return ""
			}
			match = c.Payload
		}
	}
	return match
}

// tr renders a message in the citizen's language.
func (t *turn) tr(id string, data ...map[string]any) string { return t.l.T(id, data...) }

// say adds a reply.
func (t *turn) say(text string, choices ...bot.Choice) {
	t.res.Replies = append(t.res.Replies, bot.Reply{Text: text, Choices: choices})
}

// add adds a prepared reply.
func (t *turn) add(r bot.Reply) { t.res.Replies = append(t.res.Replies, r) }

// button is a choice whose label is the message id's text.
func (t *turn) button(id, payload string) bot.Choice {
	return bot.Choice{Label: t.tr(id), Payload: payload}
}

// menuItems are the main menu's buttons in order: their labels' message ids and their
// commands.
var menuItems = []struct{ label, command string }{
	{"menu.initiative", cmdInitiative},
	{"menu.feedback", cmdFeedback},
	{"menu.status", cmdStatus},
	{"menu.human", cmdHuman},
	{"menu.help", cmdHelp},
	{"menu.language", cmdLanguage},
}

// menuChoices are the main menu's buttons.
func (t *turn) menuChoices() []bot.Choice { return menuChoicesIn(t.l) }

// menuChoicesIn are the main menu's buttons in l's language.
func menuChoicesIn(l *locales.Localizer) []bot.Choice {
	out := make([]bot.Choice, len(menuItems))
	for i, m := range menuItems {
		out[i] = bot.Choice{Label: l.T(m.label), Payload: "cmd:" + m.command}
	}
	return out
}

// menu shows the main menu under an opening line (a message id).
func (t *turn) menu(intro string) {
	t.say(t.tr(intro)+"\n\n"+t.tr("menu.ask"), t.menuChoices()...)
}

// current repeats whatever the citizen is being asked: a pending question, the flow's
// step, or the menu. In human mode the operator asks the questions: only the bot's own
// pending question is repeated.
func (t *turn) current() {
	switch {
	case t.s.State.Pending != "":
		t.add(t.pendingQuestion())
	case t.s.Profile.Mode == bot.ModeHuman:
		// Nothing: the operator leads the conversation.
	case t.s.State.Flow != "":
		t.ask()
	default:
		t.say(t.tr("menu.ask"), t.menuChoices()...)
	}
}

// clear ends the flow and drops the draft.
func (t *turn) clear() {
	t.s.State = bot.State{}
}

// date renders a day in the city's time zone.
func date(tm time.Time) string { return tm.In(bot.HoChiMinh()).Format("02/01/2006") }
