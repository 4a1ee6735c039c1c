package flows

import (
	"github.com/sangkien/sangkien/bot"
)

// human answers an event while an operator has the conversation (Profile.Mode is
// bot.ModeHuman). What the citizen writes is for the operator: the bot stays silent
// and the transcript keeps it. A few commands still work, because the issue promises
// them anywhere and no operator should have to relay them:
//
//   - forget me (with its confirmation), stop, subscribe and language run as usual;
//   - cancel hands the conversation back to the bot (see backToBot);
//   - help, menu and start remind the citizen that a person will answer and how to
//     return to the bot.
//
// Everything else, including the other commands and the menu's buttons, is silent.
func (t *turn) human(in input) error {
	st := &t.s.State
	if st.Pending == pendingForget {
		if yes, no := t.pendingAnswer(in); yes || no {
			_, err := t.pending(in)
			return err
		}
		if in.cmd == "" {
			// The citizen went on writing to the operator: the question lapses, so that a
			// later "yes" written to staff cannot erase anything.
			st.Pending, st.Misses = "", 0
		}
	}
	switch in.cmd {
	case cmdForget, cmdStop, cmdSubscribe, cmdLanguage:
		return t.command(in)
	case cmdCancel:
		t.backToBot()
	case cmdHelp, cmdMenu, cmdStart:
		t.say(t.tr("human.waiting")+"\n\n"+t.tr("human.back_hint"), t.backToBotChoice())
	default:
		t.res.Silent = true
	}
	return nil
}

// backToBot ends human mode. It resumes what the citizen was doing rather than
// cancelling it: they typed "hủy" to leave the person, not to lose a draft they may
// have asked about. The unfinished question is asked again (or, after a long pause,
// whether to continue), and a second "hủy" cancels the draft as usual; with no flow
// in progress the menu follows.
func (t *turn) backToBot() {
	t.s.Profile.Mode = bot.ModeBot
	st := &t.s.State
	st.Pending, st.Misses = "", 0
	switch {
	case st.Flow == "":
		t.menu("human.off")
	case t.stale():
		t.say(t.tr("human.off"))
		t.askResume()
	default:
		t.say(t.tr("human.off"))
		t.ask()
	}
}

// backToBotChoice is the button that leaves human mode.
func (t *turn) backToBotChoice() bot.Choice {
	return t.button("human.back_button", "cmd:"+cmdCancel)
}

// staffMessage takes a message staff wrote to the citizen in the provider's own tool
// (Zalo's OA chat) as taking the conversation over: human mode, so that the bot does
// not talk over them, until the citizen or an operator hands it back. Nothing is sent:
// the citizen has staff's message already, and the transcript keeps it. A question the
// bot had pending lapses, so that the citizen's answer to staff is not read as one.
func (t *turn) staffMessage() {
	t.s.Profile.Mode = bot.ModeHuman
	t.s.State.Pending, t.s.State.Misses = "", 0
	t.res.Silent = true
}

// console runs what staff did in the operator console. Taking over and replying put
// the conversation in human mode (a reply is a takeover too: nobody should answer a
// citizen while the bot talks over them); the citizen is told once that a person has
// joined. Handing back (or resolving) resumes what the citizen was doing, as their own
// "hủy" would; notes and assignments are for staff only.
func (t *turn) console() {
	st := &t.s.State
	human := t.s.Profile.Mode == bot.ModeHuman
	// A person joins when the bot had the conversation, or when the citizen asked for
	// one and nobody had taken it yet.
	announce := !human || t.s.Profile.Desk.Assignee == ""
	switch t.ev.Kind {
	case bot.EventStaffJoin, bot.EventStaffReply:
		t.s.Profile.Mode = bot.ModeHuman
		st.Pending, st.Misses = "", 0
		switch {
		case announce && t.ev.Staff != "":
			t.say(t.tr("human.joined", map[string]any{"Name": t.ev.Staff}))
		case announce:
			t.say(t.tr("human.joined_unnamed"))
		}
		if t.ev.Kind == bot.EventStaffReply {
			t.say(t.ev.Text) // the staff's words, as written, after "a person joined"
		}
	case bot.EventStaffNote, bot.EventStaffAssign:
		t.res.Silent = true // for colleagues: the citizen sees nothing
	case bot.EventStaffHandback, bot.EventStaffResolve:
		// Resolving a conversation staff held gives it back too: the citizen must not
		// be left writing to a person nobody will answer.
		if !human {
			t.res.Silent = true // already with the bot: nothing to say
			return
		}
		t.s.Profile.Mode = bot.ModeBot
		st.Pending, st.Misses = "", 0
		t.say(t.tr("human.handed_back"))
		t.current()
	}
}
