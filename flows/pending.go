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
	// pendingFarPoint asks whether a shared point outside the city is right.
	pendingFarPoint = "far_point"
	// pendingLanguage asks which language to speak. Its answers are commands (the
	// "lang:" buttons, a typed number or label, "English"): anything else re-asks.
	pendingLanguage = "language"
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

// farPointWords reads the typed answers to "is this point right?" beyond a plain yes
// or no ("đúng rồi", "sai"): any other text there is taken for a typed place.
func farPointWords(in input) (yes, no bool) {
	switch fold(in.text) {
	case "dung", "dung roi", "dung vay", "dung a", "dung roi a", "chinh xac", "right", "correct", "thats right", "that's right":
		return true, false
	case "sai", "sai roi", "chua dung", "khong dung", "khong phai", "wrong", "not right":
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

// question is one pending question: how it is asked and its two answers.
type question struct {
	ask     func(t *turn) string
	yes, no option
}

// option is one of a question's buttons (label is a message id) and what choosing it
// does. Pending is already cleared when do runs. move, when set, is then fired on the
// current flow's machine, as the step's own answer would.
type option struct {
	label, payload string
	do             func(t *turn)
	move           string
}

// questions is the table of pending questions, by the id stored in State.Pending.
func questions() map[string]question {
	// "No" to a question that would throw work away goes back to where the citizen was.
	keep := option{label: "choice.no", payload: "no", do: (*turn).current}
	return map[string]question{
		pendingForget: {
			ask: askText("forget.ask"),
			yes: option{label: "forget.yes", payload: forgetYes, do: (*turn).forget},
			no: option{label: "choice.no", payload: "no", do: func(t *turn) {
				t.say(t.tr("forget.kept"))
				t.current()
			}},
		},
		pendingCancel: {
			ask: askText("cancel.ask"),
			yes: option{label: "cancel.yes", payload: cancelYes, do: endAt("cancel.done")},
			no:  keep,
		},
		pendingDiscard: {
			ask: askText("discard.ask"),
			yes: option{label: "discard.yes", payload: discardYes, do: endAt("discard.done")},
			no:  keep,
		},
		pendingResume: {
			ask: (*turn).resumeText,
			yes: option{label: "resume.continue", payload: "continue", do: (*turn).current},
			no:  option{label: "resume.restart", payload: "restart", do: endAt("resume.restarted")},
		},
		pendingFarPoint: {
			ask: (*turn).farPointText,
			yes: option{label: "initiative.location.far.yes", payload: "far:yes", move: "next"},
			no: option{label: "initiative.location.far.no", payload: "far:no", do: func(t *turn) {
				if d := t.s.State.Draft; d != nil {
					d.Location = nil
				}
				t.current()
			}},
		},
	}
}

// askText asks a question with a message id's text.
func askText(id string) func(t *turn) string {
	return func(t *turn) string { return t.tr(id) }
}

// endAt ends the flow, drops the draft and shows the menu under intro (a message id).
func endAt(intro string) func(t *turn) {
	return func(t *turn) {
		t.clear()
		t.menu(intro)
	}
}

// forget erases the conversation but for its language: the store deletes it all.
func (t *turn) forget() {
	lang := t.s.Profile.Lang
	*t.s = bot.Session{Conversation: t.s.Conversation, Profile: bot.Profile{Lang: lang}}
	t.res.Forget = true
	t.say(t.tr("forget.done"))
}

// question is the pending question. An id this version does not know (a session
// stored by another) is taken for the resume question, the one it was shown as.
func (t *turn) question() question {
	if q, ok := t.r.questions[t.s.State.Pending]; ok {
		return q
	}
	return t.r.questions[pendingResume]
}

// pendingAnswer reads an answer to the pending question (see answerOf).
func (t *turn) pendingAnswer(in input) (yes, no bool) {
	q := t.question()
	return answerOf(in, q.yes.payload, q.no.payload)
}

// pending answers the question in State.Pending. done is false when the event is
// something else (a command) that the caller should run instead.
func (t *turn) pending(in input) (done bool, err error) {
	st := &t.s.State
	if st.Pending == pendingLanguage {
		if in.cmd != "" {
			// The answer, or another command: either way the question is over.
			st.Pending, st.Misses = "", 0
			return false, nil
		}
		st.Misses++
		t.missed(t.tr("miss.choice"), t.languageQuestion())
		return true, nil
	}
	q := t.question()
	yes, no := answerOf(in, q.yes.payload, q.no.payload)
	if !yes && !no && st.Pending == pendingFarPoint && in.payload == "" {
		yes, no = farPointWords(in)
	}
	if !yes && !no {
		if in.cmd != "" {
			return false, nil
		}
		if st.Pending == pendingFarPoint && (in.kind == bot.EventLocation || in.kind == bot.EventText) {
			// Another point or a typed place instead of a yes or no: the location
			// step takes it as its answer.
			st.Pending, st.Misses = "", 0
			return false, nil
		}
		st.Misses++
		t.missed(t.tr("miss.yes_no"), t.pendingQuestion())
		return true, nil
	}
	st.Pending, st.Misses = "", 0
	o := q.no
	if yes {
		o = q.yes
	}
	if o.do != nil {
		o.do(t)
	}
	if f := t.flow(); o.move != "" && f != nil {
		return true, t.advance(f, outcome{event: o.move})
	}
	return true, nil
}

// pendingQuestion is the reply that asks the pending question.
func (t *turn) pendingQuestion() bot.Reply {
	if t.s.State.Pending == pendingLanguage {
		return t.languageQuestion()
	}
	q := t.question()
	return bot.Reply{Text: q.ask(t), Choices: []bot.Choice{
		t.button(q.yes.label, q.yes.payload), t.button(q.no.label, q.no.payload)}}
}

// resumeText asks whether to continue the unfinished draft, naming what and since when.
func (t *turn) resumeText() string {
	st := t.s.State
	what := t.tr("resume.initiative")
	if st.Draft != nil && st.Draft.Kind == bot.KindFeedback {
		what = t.tr("resume.feedback")
	}
	started := st.Updated
	if st.Draft != nil && !st.Draft.Started.IsZero() {
		started = st.Draft.Started
	}
	return t.tr("resume.ask", map[string]any{"What": what, "Date": date(started)})
}

// askResume offers to continue the unfinished draft or start over.
func (t *turn) askResume() {
	t.s.State.Pending, t.s.State.Misses = pendingResume, 0
	t.add(t.pendingQuestion())
}
