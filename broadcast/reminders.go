package broadcast

import (
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/locales"
)

// Reminder is one of a program's reminders: when, relative to the program, and to whom.
type Reminder struct {
	Name string // in the broadcast's id: "opened", "week", "day"
	// Before is how long before the deadline it goes; 0 with AtOpening.
	Before    time.Duration
	AtOpening bool
	Audience  bot.AudienceKind // subscribed, program or draft
	Message   string           // its text's locale id ({{.Program}}, {{.Deadline}})
	// Stale is how long after its time a reminder still goes (a gateway that was down,
	// or first started then); 0: until the deadline.
	Stale  time.Duration
	Button string // the button's label id ("" for none); it starts or resumes an initiative
}

// DefaultReminders: everyone subscribed hears a program open; its followers, a week
// before the deadline; the owners of an unfinished draft in it, a day before, with a
// button that takes them back to their draft.
var DefaultReminders = []Reminder{
	{Name: "opened", AtOpening: true, Audience: bot.AudienceSubscribed, Message: "reminder.opened", Button: "reminder.button.start",
		Stale: 7 * 24 * time.Hour},
	{Name: "week", Before: 7 * 24 * time.Hour, Audience: bot.AudienceProgram, Message: "reminder.week", Button: "reminder.button.start",
		Stale: 6 * 24 * time.Hour},
	{Name: "day", Before: 24 * time.Hour, Audience: bot.AudienceDraft, Message: "reminder.draft", Button: "reminder.button.continue"},
}

// initiativePayload is the button's: the initiative command, which resumes a draft
// the citizen has, or starts one.
const initiativePayload = "cmd:initiative"

// Reminders makes the programs' reminders into broadcasts.
type Reminders struct {
	Programs  bot.ProgramSource
	Catalog   *locales.Catalog
	Reminders []Reminder // DefaultReminders when nil
}

// Due returns the broadcasts of the reminders whose time came by now, for programs
// still open: each has an id of its program, reminder and deadline, so that saving it
// twice (another process, a restart) is refused, and a changed deadline is a new
// reminder. late lists those whose time came and went in the last day (the program
// closed, or the reminder went stale, while no gateway ran): they are not sent.
func (r Reminders) Due(now time.Time) (due []bot.Broadcast, late []string) {
	rs := r.Reminders
	if rs == nil {
		rs = DefaultReminders
	}
	for _, p := range r.Programs.Programs() {
		if p.Deadline.IsZero() {
			continue
		}
		for _, rem := range rs {
			at := p.Deadline.Add(-rem.Before)
			if rem.AtOpening {
				at = p.Opens
			}
			if at.IsZero() || at.After(now) || (!rem.AtOpening && at.Before(p.Opens)) {
				continue
			}
			id := "rem-" + p.ID + "-" + rem.Name + "-" + p.Deadline.In(bot.HoChiMinh()).Format("20060102T1504")
			until := p.Deadline
			if rem.Stale > 0 && at.Add(rem.Stale).Before(until) {
				until = at.Add(rem.Stale)
			}
			if !now.Before(until) {
				if now.Sub(until) < 24*time.Hour {
					late = append(late, id)
				}
				continue
			}
			due = append(due, r.broadcast(id, p, rem, at))
		}
	}
	return due, late
}

func (r Reminders) broadcast(id string, p bot.Program, rem Reminder, at time.Time) bot.Broadcast {
	text := func(lang string) string {
		return r.Catalog.For(lang).T(rem.Message, map[string]any{
			"Program": p.Name.In(lang), "Deadline": p.Deadline.In(bot.HoChiMinh()).Format("15:04 02/01/2006")})
	}
	q := bot.AudienceQuery{Kind: rem.Audience}
	if rem.Audience != bot.AudienceSubscribed {
		q.Program = p.ID
	}
	b := bot.Broadcast{ID: id, Audience: q, Text: bot.Text{VI: text(locales.VI), EN: text(locales.EN)}, At: at, Created: at,
		State: bot.BroadcastScheduled}
	if rem.Button != "" {
		b.Button = &bot.BroadcastButton{Payload: initiativePayload,
			Label: bot.Text{VI: r.Catalog.For(locales.VI).T(rem.Button), EN: r.Catalog.For(locales.EN).T(rem.Button)}}
	}
	return b
}
