package broadcast

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// openingStale is how long after a program opened its opening reminder still goes (a
// gateway that was down, or first started then): a program a week old is not news.
const openingStale = 7 * 24 * time.Hour

// initiativePayload is the buttons' (+ the program's id): the program's deep link, the
// initiative command, which resumes a draft the citizen has, or starts one in it.
const initiativePayload = "cmd:initiative:"

// Reminders makes the programs' reminders (bot.Program.ReminderList) into broadcasts:
//
//   - at opening, one to everyone subscribed, telling them it opened;
//   - for each offset before the deadline, one to the program's followers telling
//     the time left, and one personal reminder to the owners of an unfinished draft in
//     it, naming their draft, with a button that takes them back to it. The followers'
//     broadcast leaves the draft owners out (bot.AudienceQuery.WithoutDrafts): they hear
//     the personal one instead, not both. Each walk reads the indexes as they stand, so
//     a citizen who starts or ends a draft between the two walks of one offset (they
//     are seconds apart) may hear both, or neither; the next offset finds them again.
type Reminders struct {
	Programs bot.ProgramSource
	Catalog  *locales.Catalog
}

// Due returns the broadcasts of the reminders whose time came by now, for programs
// still open: each has an id of its program, offset and deadline ("rem-cds-7d-
// 20261220T1700", "rem-cds-7d-draft-…"; the opening's names the opening instead,
// "rem-cds-opened-20261201T0800"), so that saving it twice (another process, a
// restart) is refused, and a changed offset or deadline is a new reminder.
//
// A reminder whose time passed while no gateway ran is still sent, once, late, until
// the next reminder of its program before the deadline falls due (it says the same to
// the same citizens, more urgently) or the deadline passes; the opening, which goes to
// everyone subscribed, until the deadline or a week after it. late lists those that went
// stale so in the last day: they are not sent, and the runner logs them.
func (r Reminders) Due(now time.Time) (due []bot.Broadcast, late []string) {
	for _, p := range r.Programs.Programs() {
		if p.Deadline.IsZero() {
			continue
		}
		for _, s := range schedule(p) {
			if s.at.After(now) {
				continue
			}
			if !now.Before(s.until) {
				if now.Sub(s.until) < 24*time.Hour {
					for _, b := range r.broadcasts(p, s.rem, s.at) {
						late = append(late, b.ID)
					}
				}
				continue
			}
			due = append(due, r.broadcasts(p, s.rem, s.at)...)
		}
	}
	return due, late
}

// slot is one reminder of a program at its time, and the time it goes stale.
type slot struct {
	rem       bot.Reminder
	at, until time.Time
}

// schedule lists p's reminders in time order: those before its opening, or with no
// time, are left out, and one listed twice counts once.
func schedule(p bot.Program) []slot {
	var out []slot
	for _, rem := range p.ReminderList() {
		at := p.Deadline.Add(-rem.Before)
		if rem.AtOpening {
			at = p.Opens
		}
		if at.IsZero() || at.Before(p.Opens) || !at.Before(p.Deadline) ||
			slices.ContainsFunc(out, func(s slot) bool { return s.rem == rem }) {
			continue
		}
		out = append(out, slot{rem: rem, at: at})
	}
	slices.SortStableFunc(out, func(a, b slot) int { return a.at.Compare(b.at) })
	next := p.Deadline // the time of the next reminder before the deadline, walking back
	for i := len(out) - 1; i >= 0; i-- {
		s := &out[i]
		if s.rem.AtOpening {
			// Its audience is not the next ones' (everyone subscribed, not the followers).
			s.until = p.Deadline
			if stale := s.at.Add(openingStale); stale.Before(s.until) {
				s.until = stale
			}
			continue
		}
		s.until, next = next, s.at
	}
	return out
}

// broadcasts are the reminder's: the opening's, or the followers' and the draft owners'.
func (r Reminders) broadcasts(p bot.Program, rem bot.Reminder, at time.Time) []bot.Broadcast {
	// The opening's id names the opening, the others' the deadline: a deadline moved
	// after the program opened does not announce the opening again.
	id := func(name string) string {
		when := p.Deadline
		if rem.AtOpening {
			when = p.Opens
		}
		return "rem-" + p.ID + "-" + name + "-" + when.In(bot.HoChiMinh()).Format("20060102T1504")
	}
	text := func(msg string, left func(*locales.Localizer) string) bot.Text {
		in := func(lang string) string {
			l := r.Catalog.For(lang)
			at := p.Deadline.In(bot.HoChiMinh())
			data := map[string]any{"Program": p.Name.In(lang),
				"Deadline": l.T("reminder.deadline", map[string]any{"Time": at.Format("15:04"), "Date": at.Format("02/01/2006")}),
				"Title":    bot.DraftTitlePlaceholder} // rendered per citizen (bot.Broadcast.Personal)
			if left != nil {
				data["Left"] = left(l)
			}
			return l.T(msg, data)
		}
		return bot.Text{VI: in(locales.VI), EN: in(locales.EN)}
	}
	button := func(label string) *bot.BroadcastButton {
		return &bot.BroadcastButton{Payload: initiativePayload + p.ID,
			Label: bot.Text{VI: r.Catalog.For(locales.VI).T(label), EN: r.Catalog.For(locales.EN).T(label)}}
	}
	b := func(name string, q bot.AudienceQuery, t bot.Text, btn *bot.BroadcastButton) bot.Broadcast {
		return bot.Broadcast{ID: id(name), Audience: q, Text: t, Button: btn, At: at, Created: at, State: bot.BroadcastScheduled}
	}
	if rem.AtOpening {
		return []bot.Broadcast{b("opened", bot.AudienceQuery{Kind: bot.AudienceSubscribed},
			text("reminder.opened", nil), button("reminder.button.start"))}
	}
	left := func(l *locales.Localizer) string { return TimeLeft(rem.Before, l) }
	name := offsetName(rem.Before)
	followers := b(name, bot.AudienceQuery{Kind: bot.AudienceProgram, Program: p.ID, WithoutDrafts: true},
		text("reminder.left", left), button("reminder.button.start"))
	draft := b(name+"-draft", bot.AudienceQuery{Kind: bot.AudienceDraft, Program: p.ID},
		text("reminder.draft", left), button("reminder.button.continue"))
	draft.Personal = text("reminder.draft.named", left)
	return []bot.Broadcast{followers, draft}
}

// offsetName is an offset in a broadcast's id: "7d", "1d", "36h" as "1d12h", "90m"
// as "1h30m".
func offsetName(d time.Duration) string {
	var b strings.Builder
	days, hours, minutes := d/(24*time.Hour), d%(24*time.Hour)/time.Hour, d%time.Hour/time.Minute
	for _, part := range []struct {
		n    time.Duration
		unit string
	}{{days, "d"}, {hours, "h"}, {minutes, "m"}} {
		if part.n > 0 {
			fmt.Fprintf(&b, "%d%s", part.n, part.unit)
		}
	}
	if b.Len() == 0 {
		return d.String()
	}
	return b.String()
}

// TimeLeft says an offset in words, in l's language: "7 ngày", "1 ngày 12 giờ",
// "1 giờ", "1 phút"; "7 days", "1 day 12 hours", "1 hour", "1 minute". Seconds are
// left out (an offset under a minute says "1 minute").
func TimeLeft(d time.Duration, l *locales.Localizer) string {
	days, hours, minutes := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	if days == 0 && hours == 0 && minutes == 0 {
		minutes = 1
	}
	var parts []string
	for _, part := range []struct {
		n          int
		one, other string
	}{
		{days, "reminder.left.day", "reminder.left.days"},
		{hours, "reminder.left.hour", "reminder.left.hours"},
		{minutes, "reminder.left.minute", "reminder.left.minutes"},
	} {
		switch {
		case part.n == 1:
			parts = append(parts, l.T(part.one))
		case part.n > 1:
			parts = append(parts, l.T(part.other, map[string]any{"N": part.n}))
		}
	}
	return strings.Join(parts, " ")
}
