package flows

import (
	"slices"
	"strings"

	"github.com/sangkien/sangkien/bot"
)

// statusSubmitted is the gateway's own status; the intake's callbacks set the later ones.
const statusSubmitted = bot.StatusSubmitted

// statusText names the message of each status.
var statusText = map[string]string{
	bot.StatusSubmitted:   "status.submitted",
	bot.StatusUndelivered: "status.undelivered",
	bot.StatusReceived:    "status.received",
	bot.StatusUnderReview: "status.under_review",
	bot.StatusNeedsInfo:   "status.needs_info",
	bot.StatusAccepted:    "status.accepted",
	bot.StatusRejected:    "status.rejected",
	bot.StatusImplemented: "status.implemented",
}

// maxListed bounds "my submissions" to the most recent ones.
const maxListed = 10

// status lists the citizen's submissions, the most recent first.
func (t *turn) status() {
	subs := slices.Clone(t.s.Profile.Submissions)
	if len(subs) == 0 {
		t.say(t.tr("status.none"))
		return
	}
	slices.SortStableFunc(subs, func(a, b bot.SubmissionSummary) int { return b.Changed.Compare(a.Changed) })
	if len(subs) > maxListed {
		subs = subs[:maxListed]
	}
	var b strings.Builder
	b.WriteString(t.tr("status.header", map[string]any{"Count": len(t.s.Profile.Submissions)}))
	for _, s := range subs {
		status := t.tr("status.other", map[string]any{"Status": s.Status})
		if id, ok := statusText[s.Status]; ok {
			status = t.tr(id)
		}
		title := s.Title
		if title == "" {
			title = t.tr("review.none")
		}
		b.WriteString("\n\n")
		b.WriteString(t.tr("status.item", map[string]any{
			"Reference": s.Reference, "Title": title, "Status": status, "Date": date(s.Changed),
		}))
	}
	t.say(b.String())
}
