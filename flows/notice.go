package flows

import (
	"slices"
	"strings"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// statusChange tells the citizen that the city changed the status of one of their
// submissions, and updates "my submissions". It works in every mode: in human mode the
// notice is the city's, not the bot's chat. A citizen who blocked the bot gets no notice
// (the channel would refuse it), and neither does one who already got a newer status
// (callbacks can arrive out of order); "my submissions" shows the latest either way.
func (t *turn) statusChange() {
	c := t.ev.Status
	t.l = t.r.cat.For(t.s.Profile.Lang)
	if c == nil || (c.SubmissionID == "" && c.Reference == "") {
		t.res.Silent = true
		return
	}
	at := c.At
	if at.IsZero() {
		at = t.now
	}
	ref := c.Reference
	subs := t.s.Profile.Submissions
	i := slices.IndexFunc(subs, func(s bot.SubmissionSummary) bool {
		return (c.SubmissionID != "" && s.ID == c.SubmissionID) || (c.Reference != "" && s.Reference == c.Reference)
	})
	switch {
	case i < 0:
		// Not in the profile (erased with "forget me", or the profile expired): the
		// citizen is still the submitter, and "my submissions" should match the notice.
		sum := bot.SubmissionSummary{ID: c.SubmissionID, Reference: ref}
		sum.Record(c.Status, c.IntakeID, at)
		t.s.Profile.Submissions = append(subs, sum)
	case at.Before(subs[i].Changed):
		t.res.Silent = true
		return
	default:
		if ref == "" {
			ref = subs[i].Reference
		}
		subs[i].Record(c.Status, c.IntakeID, at)
	}
	if t.s.Profile.Unreachable {
		t.res.Silent = true
		return
	}
	t.say(t.statusNotice(c, ref))
}

// statusNotice composes the notice: what changed, the city's own id, the city's message
// in the citizen's language (or the other one when the city wrote only that).
func (t *turn) statusNotice(c *bot.StatusChange, ref string) string {
	if c.Status == bot.StatusUndelivered {
		// Not news from the city: the city's system could not take it. Said plainly,
		// without a "new status" line that would read as the city's decision.
		return t.tr("notice.undelivered", map[string]any{"Reference": ref})
	}
	lines := []string{t.tr("notice.header", map[string]any{"Reference": ref})}
	if id, ok := statusText[c.Status]; ok {
		lines = append(lines, t.tr("notice.status", map[string]any{"Status": t.tr(id)}))
	}
	if c.IntakeID != "" {
		lines = append(lines, t.tr("notice.intake_id", map[string]any{"IntakeID": c.IntakeID}))
	}
	if msg := cityMessage(c.Message, t.l.Lang()); msg != "" {
		lines = append(lines, "", t.tr("notice.message", map[string]any{"Message": msg}))
	}
	return strings.Join(lines, "\n")
}

// cityMessage is the city's message in lang, falling back to the other language.
func cityMessage(m bot.Text, lang string) string {
	vi, en := strings.TrimSpace(m.VI), strings.TrimSpace(m.EN)
	if lang == locales.EN {
		vi, en = en, vi
	}
	if vi != "" {
		return vi
	}
	return en
}
