package broadcast_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/broadcast"
	"github.com/sangkien/sangkien/locales"
)

// A program's reminders fall due at its opening, a week and a day before its deadline,
// each with an id of its own that a later look gives again (so that saving it twice is
// refused), in both languages; none before its time, none once stale (the opening
// after a week, the week's when the day's comes) or the program closed (told as late
// for a day), and no week reminder for a program that opened within the week.
func TestRemindersDue(t *testing.T) {
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	hn := bot.HoChiMinh()
	p := bot.Program{ID: "cds", Name: bot.Text{VI: "Chuyển đổi số", EN: "Digital wards"},
		Opens: time.Date(2026, 12, 1, 8, 0, 0, 0, hn), Deadline: time.Date(2026, 12, 20, 17, 0, 0, 0, hn)}
	r := broadcast.Reminders{Programs: bot.Programs{p}, Catalog: cat}
	names := func(bs []bot.Broadcast) string {
		var out []string
		for _, b := range bs {
			out = append(out, b.ID)
		}
		return strings.Join(out, " ")
	}
	for _, tt := range []struct {
		now       time.Time
		due, late string
	}{
		{time.Date(2026, 12, 1, 7, 59, 0, 0, hn), "", ""},
		{time.Date(2026, 12, 1, 8, 0, 0, 0, hn), "rem-cds-opened-20261220T1700", ""},
		{time.Date(2026, 12, 8, 7, 0, 0, 0, hn), "rem-cds-opened-20261220T1700", ""},
		{time.Date(2026, 12, 8, 9, 0, 0, 0, hn), "", "rem-cds-opened-20261220T1700"}, // a week after the opening: stale
		{time.Date(2026, 12, 13, 17, 0, 0, 0, hn), "rem-cds-week-20261220T1700", ""},
		{time.Date(2026, 12, 19, 17, 30, 0, 0, hn), "rem-cds-day-20261220T1700", "rem-cds-week-20261220T1700"},
		{time.Date(2026, 12, 20, 18, 0, 0, 0, hn), "", "rem-cds-day-20261220T1700"},
		{time.Date(2026, 12, 22, 9, 0, 0, 0, hn), "", ""},
	} {
		due, late := r.Due(tt.now)
		if names(due) != tt.due || strings.Join(late, " ") != tt.late {
			t.Errorf("at %v: due %q late %q; want %q and %q", tt.now, names(due), late, tt.due, tt.late)
		}
	}
	due, _ := r.Due(p.Deadline.Add(-time.Hour))
	day := due[0]
	if day.Audience != (bot.AudienceQuery{Kind: bot.AudienceDraft, Program: "cds"}) || !strings.Contains(day.Text.VI, "Chuyển đổi số") ||
		!strings.Contains(day.Text.EN, "Digital wards") || !strings.Contains(day.Text.VI, "17:00 20/12/2026") ||
		day.Button == nil || day.Button.Payload != "cmd:initiative" || day.Button.Label.VI == "" || day.Button.Label.EN == "" {
		t.Errorf("the day-before reminder: %+v %+v", day, day.Button)
	}
	opened, _ := r.Due(p.Opens)
	week, _ := r.Due(p.Deadline.Add(-7 * 24 * time.Hour))
	if opened[0].Audience.Kind != bot.AudienceSubscribed || week[0].Audience != (bot.AudienceQuery{Kind: bot.AudienceProgram, Program: "cds"}) {
		t.Errorf("audiences: %+v, %+v", opened[0].Audience, week[0].Audience)
	}
	for _, b := range append(append(due, opened...), week...) {
		if err := b.Validate(); err != nil {
			t.Errorf("%s: %v", b.ID, err)
		}
	}
	// A program that opened less than a week before its deadline has no week reminder.
	short := p
	short.Opens = p.Deadline.Add(-3 * 24 * time.Hour)
	if due, _ := (broadcast.Reminders{Programs: bot.Programs{short}, Catalog: cat}).Due(p.Deadline.Add(-time.Hour)); names(due) != "rem-cds-opened-20261220T1700 rem-cds-day-20261220T1700" {
		t.Errorf("a short program: %q", names(due))
	}
}
