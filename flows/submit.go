package flows

import (
	"fmt"

	"github.com/sangkien/sangkien/bot"
)

// Reference prefixes: sáng kiến (initiative) and góp ý (feedback).
const (
	prefixInitiative = "SK"
	prefixFeedback   = "GY"
)

// reference takes the next number of the year (in the city's time zone) for prefix:
// "SK-2026-000123".
//
// Numbers can have gaps: the counter is taken before the engine commits the
// submission, so a commit that fails (or a crash in between) uses up a number, and the
// redelivered event takes the next one. That is accepted: a reference never repeats,
// which is what the city and the citizen rely on; sequential without gaps would need
// the counter and the commit in one transaction.
func (t *turn) reference(prefix string) (string, error) {
	year := t.now.In(bot.HoChiMinh()).Year()
	n, err := t.r.refs.NextReference(t.ctx, prefix, year)
	if err != nil {
		return "", fmt.Errorf("next %s reference: %w", prefix, err)
	}
	return fmt.Sprintf("%s-%d-%06d", prefix, year, n), nil
}

// submitInitiative turns the reviewed draft into a submission, unless its program
// closed while the citizen was writing: then the draft is kept and the citizen asked
// what to do with it (closed.go).
func (t *turn) submitInitiative() error {
	d := t.draft()
	p, ok := t.program()
	if !ok || !p.OpenAt(t.now) {
		return t.closedAtSubmit()
	}
	if missing, err := t.missingAnswer(d, true); missing || err != nil {
		return err
	}
	ref, err := t.reference(prefixInitiative)
	if err != nil {
		return err
	}
	sub := t.submission(d, ref)
	t.record(sub, d.Title)
	t.say(t.tr("initiative.submitted", map[string]any{"Reference": ref, "Program": p.Name.In(t.l.Lang())}),
		t.menuChoices()...)
	t.r.log.InfoContext(t.ctx, "initiative submitted", "conversation", bot.MaskID(t.s.Conversation.Key()), "reference", ref, "program", p.ID)
	return nil
}

// submitFeedback turns the feedback draft into a submission.
func (t *turn) submitFeedback() error {
	d := t.draft()
	if missing, err := t.missingAnswer(d, false); missing || err != nil {
		return err
	}
	ref, err := t.reference(prefixFeedback)
	if err != nil {
		return err
	}
	sub := t.submission(d, ref)
	if d.Topic == topicProgram {
		// Feedback about a program names it where an initiative does.
		sub.ProgramID = d.TopicRef
	}
	title := clip(d.Comment, 60)
	if d.Title != "" {
		title = d.Title // an initiative sent as feedback (closed.go)
	}
	t.record(sub, title)
	t.say(t.tr("feedback.submitted", map[string]any{"Reference": ref}), t.menuChoices()...)
	t.r.log.InfoContext(t.ctx, "feedback submitted", "conversation", bot.MaskID(t.s.Conversation.Key()), "reference", ref, "rating", d.Rating)
	return nil
}

// missingAnswer sends a draft that lacks a required answer back to the step that asks
// for it, and reports whether it did. It is a safety net: the steps let no such draft
// through, but a submission the city cannot use or answer must never leave. review
// brings the citizen back to the review once the answer is given. It runs in the
// flow's final state ("submitted"), whose "missing_<step>" events lead back.
func (t *turn) missingAnswer(d *bot.Draft, review bool) (bool, error) {
	step := t.missingStep(d)
	if step == "" {
		return false, nil
	}
	st := &t.s.State
	if err := t.fire(t.machine(t.r.flows[st.Flow]), "missing_"+step); err != nil {
		return false, err
	}
	st.Editing = review
	t.say(t.tr(missingMessage(step)))
	t.ask()
	t.r.log.WarnContext(t.ctx, "draft without a required answer sent back", "conversation", bot.MaskID(t.s.Conversation.Key()),
		"kind", d.Kind, "step", step)
	return true, nil
}

// initiativeRequired are the initiative's steps whose answer every submission has, in
// the order they are asked.
var initiativeRequired = []string{"program", "field", "title", "description", "benefit", "name", "phone"}

// missingStep is the first step whose required answer the draft lacks, "" when none.
// Feedback may be anonymous (no name and no phone), never half a contact.
func (t *turn) missingStep(d *bot.Draft) string {
	if d.Kind == bot.KindFeedback {
		switch {
		case d.Name == "" && d.Phone == "":
			return ""
		case d.Name == "":
			return "name"
		case d.Phone == "":
			return "phone"
		}
		return ""
	}
	p, _ := t.program()
	_, field := p.Field(d.Field)
	empty := map[string]bool{
		"program": d.ProgramID == "", "field": !field, "title": d.Title == "",
		"description": d.Description == "", "benefit": d.Benefit == "",
		"name": d.Name == "", "phone": d.Phone == "",
	}
	for _, step := range initiativeRequired {
		if empty[step] {
			return step
		}
	}
	return ""
}

// missingMessage is the message that asks a missing answer again.
func missingMessage(step string) string {
	switch step {
	case "name":
		return "submit.missing_name"
	case "phone":
		return "submit.missing_phone"
	}
	return "submit.missing_answer"
}

// submission builds the draft's submission: its proposal and contact as they are,
// and what every submission carries.
func (t *turn) submission(d *bot.Draft, ref string) *bot.Submission {
	sub := &bot.Submission{
		ID:           d.ID,
		Reference:    ref,
		Proposal:     d.Proposal,
		Contact:      d.SubmitterContact,
		Conversation: t.s.Conversation,
		Lang:         t.s.Profile.Lang,
		SubmittedAt:  t.now,
	}
	if c := t.s.Profile.Consent; c != nil {
		sub.ConsentAt, sub.NoticeVersion = c.At, c.NoticeVersion
	}
	return sub
}

// record hands the submission to the engine, remembers it for "my submissions" and
// ends the flow.
func (t *turn) record(sub *bot.Submission, title string) {
	t.res.Submission = sub
	sum := bot.SubmissionSummary{ID: sub.ID, Reference: sub.Reference, Kind: sub.Kind, Title: title}
	sum.Record(statusSubmitted, "", t.now)
	t.s.Profile.Submissions = append(t.s.Profile.Submissions, sum)
	t.clear()
}

// clip shortens s to n characters on a word boundary when it can.
func clip(s string, n int) string {
	s = singleLine(s)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := n
	for i := n; i > n/2; i-- {
		if r[i] == ' ' {
			cut = i
			break
		}
	}
	return string(r[:cut]) + "…"
}
