package flows

import (
	"github.com/sangkien/sangkien/bot"
)

// Pending questions: a yes or no the citizen owes before anything else moves.
const (
	pendingCancel  = "cancel"
	pendingDiscard = "discard"
	pendingForget  = "forget"
	pendingResume  = "resume"
)

// answerOf reads an answer to a yes/no question whose buttons send yesPayload and
// noPayload. Only the question's own buttons count: a button still shown under an
// earlier message ("✅ Agree" under the privacy notice, "▶️ Continue") means something
// else. A typed word counts as usual.
func answerOf(in input, yesPayload, noPayload string) (yes, no bool) {
	if in.payload != "" {
		return in.payload == yesPayload, in.payload == noPayload
	}
	return typedYesNo(in)
}

// typedYesNo reads a typed yes or no, with or without diacritics.
func typedYesNo(in input) (yes, no bool) {
	switch fold(in.text) {
	case "co", "yes", "y", "ok", "oke", "okay", "dong y", "u", "vang", "da", "duoc":
		return true, false
	case "khong", "no", "n", "ko", "k", "thoi":
		return false, true
	}
	return false, false
}

// The "yes" of each question that throws work away has a payload of its own, so that no
// other question's "yes" button left on an earlier message can confirm it.
const (
	forgetYes  = "forget:yes"
	cancelYes  = "cancel:yes"
	discardYes = "discard:yes"
)

// pendingAnswer reads an answer to the pending question (see answerOf).
func (t *turn) pendingAnswer(in input) (yes, no bool) {
	y, n := "yes", "no"
	switch t.s.State.Pending {
	case pendingForget:
		y = forgetYes
	case pendingCancel:
		y = cancelYes
	case pendingDiscard:
		y = discardYes
	case pendingResume:
		y, n = "continue", "restart"
	}
	return answerOf(in, y, n)
}

// pending answers the question in State.Pending. done is false when the event is
// something else (a command) that the caller should run instead.
func (t *turn) pending(in input) (done bool, err error) {
	st := &t.s.State
	yes, no := t.pendingAnswer(in)
	if !yes && !no {
		if in.cmd != "" {
			return false, nil
		}
		st.Misses++
		t.missed(t.tr("miss.yes_no"), t.pendingQuestion())
		return true, nil
	}
	which := st.Pending
	st.Pending, st.Misses = "", 0
	switch {
	case which == pendingForget && yes:
		lang := t.s.Profile.Lang
		*t.s = bot.Session{Conversation: t.s.Conversation, Profile: bot.Profile{Lang: lang}}
		t.res.Forget = true
		t.say(t.tr("forget.done"))
	case which == pendingForget:
		t.say(t.tr("forget.kept"))
		t.current()
	case (which == pendingCancel || which == pendingDiscard) && yes:
		t.clear()
		if which == pendingDiscard {
			t.menu("discard.done")
		} else {
			t.menu("cancel.done")
		}
	case which == pendingResume && no:
		t.clear()
		t.menu("resume.restarted")
	default:
		// "no" to cancel or discard, "continue" to resume: back to the question.
		t.current()
	}
	return true, nil
}

// pendingQuestion is the reply that asks the pending question.
func (t *turn) pendingQuestion() bot.Reply {
	switch t.s.State.Pending {
	case pendingForget:
		return bot.Reply{Text: t.tr("forget.ask"), Choices: []bot.Choice{
			t.button("forget.yes", forgetYes), t.button("choice.no", "no")}}
	case pendingCancel:
		return bot.Reply{Text: t.tr("cancel.ask"), Choices: []bot.Choice{
			t.button("cancel.yes", cancelYes), t.button("choice.no", "no")}}
	case pendingDiscard:
		return bot.Reply{Text: t.tr("discard.ask"), Choices: []bot.Choice{
			t.button("discard.yes", discardYes), t.button("choice.no", "no")}}
	default:
		st := t.s.State
		what := t.tr("resume.initiative")
		if st.Draft != nil && st.Draft.Kind == bot.KindFeedback {
			what = t.tr("resume.feedback")
		}
		started := st.Updated
		if st.Draft != nil && !st.Draft.Started.IsZero() {
			started = st.Draft.Started
		}
		return bot.Reply{Text: t.tr("resume.ask", map[string]any{"What": what, "Date": date(started)}),
			Choices: []bot.Choice{t.button("resume.continue", "continue"), t.button("resume.restart", "restart")}}
	}
}

// askResume offers to continue the unfinished draft or start over.
func (t *turn) askResume() {
	t.s.State.Pending, t.s.State.Misses = pendingResume, 0
	t.add(t.pendingQuestion())
}
