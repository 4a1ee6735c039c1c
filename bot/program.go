package bot

import (
	"slices"
	"time"
)

// Program is a call for initiatives: open from Opens until Deadline (Asia/Ho_Chi_Minh).
// The programs package reads them from the operators' file.
type Program struct {
	ID          string
	Name        Text
	Description Text
	Fields      []Field
	Opens       time.Time
	Deadline    time.Time
	// Reminders are when the program's reminders go; nil for DefaultReminders.
	Reminders []Reminder
	// ZNS, when set, is the Zalo template message sent instead of a reminder to a
	// Zalo citizen outside the OA's interaction window who gave a phone with consent.
	ZNS *ZNSTemplate
}

// Reminder is one of a program's reminders. One AtOpening goes to everyone subscribed
// to announcements when the program opens; one Before goes that long before the
// deadline to the program's followers, and to those with an unfinished draft in it
// as a personal reminder naming their draft.
type Reminder struct {
	AtOpening bool
	Before    time.Duration
}

// DefaultReminders are a program's reminders when its file names none: at opening,
// a week and a day before the deadline.
var DefaultReminders = []Reminder{{AtOpening: true}, {Before: 7 * 24 * time.Hour}, {Before: 24 * time.Hour}}

// ReminderList returns the program's reminders: its own, or DefaultReminders.
func (p Program) ReminderList() []Reminder {
	if p.Reminders == nil {
		return DefaultReminders
	}
	return p.Reminders
}

// ZNSTemplate is an approved Zalo Notification Service template: its id, and the
// value of each of its parameters, a text template that may name {{.Program}},
// {{.Deadline}} and {{.Name}} (the citizen's name as they gave it).
type ZNSTemplate struct {
	ID     string
	Params map[string]string
}

// Field is a domain (lĩnh vực) a program accepts initiatives in.
type Field struct {
	ID   string
	Name Text
	// ServiceCode maps the field to an Open311 service_code.
	ServiceCode string
}

// Text is a string in both languages.
type Text struct {
	VI string `json:"vi,omitempty"`
	EN string `json:"en,omitempty"`
}

// In returns the text in lang ("vi" or "en"), falling back to Vietnamese.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	return t.VI
}

// OpenAt reports whether the program accepts initiatives at t.
func (p Program) OpenAt(t time.Time) bool {
	return !t.Before(p.Opens) && t.Before(p.Deadline)
}

// Field returns the program's field with the given id.
func (p Program) Field(id string) (Field, bool) {
	i := slices.IndexFunc(p.Fields, func(f Field) bool { return f.ID == id })
	if i < 0 {
		return Field{}, false
	}
	return p.Fields[i], true
}

// Programs is the catalog of programs, in the order the file lists them.
type Programs []Program

// Phrases lists the programs' names and descriptions in both languages: texts the bot
// says often that name nobody, which a store of transcripts may keep by reference
// (redisstore.Options.Phrases).
func (ps Programs) Phrases() []string {
	var out []string
	for _, p := range ps {
		for _, t := range []Text{p.Name, p.Description} {
			out = append(out, t.VI, t.EN)
		}
	}
	return out
}

// ProgramSource gives the catalog as it stands now: the programs file with the
// admins' edits over it, which may change while the gateway runs. Readers take it
// once per piece of work (a turn, a page, a tick) and keep to that copy. A fixed
// Programs is one.
type ProgramSource interface {
	Programs() Programs
}

// Programs returns ps itself: a catalog that never changes.
func (ps Programs) Programs() Programs { return ps }

// Get returns the program with the given id.
func (ps Programs) Get(id string) (Program, bool) {
	i := slices.IndexFunc(ps, func(p Program) bool { return p.ID == id })
	if i < 0 {
		return Program{}, false
	}
	return ps[i], true
}

// OpenAt lists the programs open at t.
func (ps Programs) OpenAt(t time.Time) Programs {
	var open Programs
	for _, p := range ps {
		if p.OpenAt(t) {
			open = append(open, p)
		}
	}
	return open
}

// HoChiMinh returns the city's time zone, in which programs' dates without a zone are
// read and citizens are shown dates.
func HoChiMinh() *time.Location { return hoChiMinh }

// hoChiMinh is loaded once, at start, and never changed: time.LoadLocation reads the
// zone database on every call, and dates are shown in most replies. Only HoChiMinh
// reads it.
var hoChiMinh = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}()
