package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/programs"
)

// The programs pages (admins): the catalog as it stands, with each program's dates,
// whether it takes initiatives now and when its reminders go; and a program's form,
// where an admin changes its names and description in both languages, its opening,
// its deadline and its reminders. Edits are kept in Redis over the programs file and
// read by every gateway process within programs.Refresh (at once by this one); a
// program's fields and id stay the file's. A moved deadline moves the reminders not
// yet sent: their broadcast ids name the deadline.

// ProgramEdits are the admins' edits of the programs, laid over the programs file:
// programs.Live.
type ProgramEdits interface {
	// Read reads the edits afresh: the catalog with them and the edits by program.
	Read(ctx context.Context) (bot.Programs, map[string]programs.Edit, error)
	File() bot.Programs
	Put(ctx context.Context, id string, e programs.Edit) error
	Reset(ctx context.Context, id string) (bool, error)
}

// Actions of the audit trail for the programs' edits.
const (
	AuditProgramEdit  = "program_edit"
	AuditProgramReset = "program_reset"
)

// The longest texts the form takes, in characters.
const (
	programNameMax        = 200
	programDescriptionMax = 2000
)

// formTime is how a datetime-local input writes a time (Hanoi's).
const formTime = "2006-01-02T15:04"

func (s *Server) programRoutes(page func(string, bot.Role, func(http.ResponseWriter, *http.Request, caller))) {
	page("GET /console/programs", bot.RoleAdmin, s.programsPage)
	if s.cfg.ProgramEdits == nil {
		return
	}
	page("GET /console/programs/{id}", bot.RoleAdmin, s.programPage)
	page("POST /console/programs/{id}", bot.RoleAdmin, s.programSavePage)
	page("POST /console/programs/{id}/reset", bot.RoleAdmin, s.programResetPage)
}

// programView is what the programs pages show.
type programView struct {
	Rows     []catalogRow
	Editable bool
	// The form's: the program, as the file has it too, and what the form holds.
	One  *catalogRow
	File *catalogRow
	Form programForm
}

// catalogRow is one program as the pages show it.
type catalogRow struct {
	ID, Name    string
	Opens       string // "01/09/2026 00:00", Hanoi time
	Deadline    string
	OpensAt     string // the same, for <time datetime>
	DeadlineAt  string
	State       string // "open", "closed" or "upcoming"
	StateName   string
	Reminders   string
	Edited      bool
	Description string
}

// programForm is the form's fields, as typed.
type programForm struct {
	NameVI, NameEN, DescVI, DescEN string
	Opens, Deadline                string // formTime
	AtOpening                      bool
	Before                         string // "7d, 1d"
}

// programFlash are the notices after a redirect (?flash=).
var programFlash = map[string]string{
	"program_saved": "console.programs.done.saved",
	"program_reset": "console.programs.done.reset",
}

// programPageView starts a programs page's view: its title and notice.
func (s *Server) programPageView(w http.ResponseWriter, r *http.Request, page string, c caller, titleID string) view {
	v := s.newView(w, r, page, c)
	v.Title, v.Program = s.cat.For(v.Lang).T(titleID), &programView{Editable: s.cfg.ProgramEdits != nil}
	if id, ok := programFlash[r.URL.Query().Get("flash")]; ok {
		v.Flash, v.FlashKind = s.cat.For(v.Lang).T(id), "ok"
	}
	return v
}

// readPrograms reads the catalog as stored (not as last read), and the programs an
// admin edited; without edits, the configured catalog.
func (s *Server) readPrograms(ctx context.Context) (bot.Programs, map[string]programs.Edit, error) {
	if s.cfg.ProgramEdits == nil {
		return s.cfg.Programs.Programs(), nil, nil
	}
	return s.cfg.ProgramEdits.Read(ctx)
}

func (s *Server) programsPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.programPageView(w, r, "programs", c, "console.programs.title")
	ps, edits, err := s.readPrograms(r.Context())
	if err != nil {
		s.log.Error("programs", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	for _, p := range ps {
		_, edited := edits[p.ID]
		v.Program.Rows = append(v.Program.Rows, s.programLine(p, edited, v.Lang))
	}
	s.render(w, http.StatusOK, "programs", v)
}

// programLine is p as the pages show it, in lang.
func (s *Server) programLine(p bot.Program, edited bool, lang string) catalogRow {
	l := s.cat.For(lang)
	row := catalogRow{ID: p.ID, Name: p.Name.In(lang), Description: p.Description.In(lang), Edited: edited,
		Opens: p.Opens.In(zone()).Format("02/01/2006 15:04"), Deadline: p.Deadline.In(zone()).Format("02/01/2006 15:04"),
		OpensAt: p.Opens.Format(time.RFC3339), DeadlineAt: p.Deadline.Format(time.RFC3339)}
	now := s.cfg.Now()
	switch {
	case now.Before(p.Opens):
		row.State, row.StateName = "upcoming", l.T("console.programs.state.upcoming")
	case p.OpenAt(now):
		row.State, row.StateName = "open", l.T("console.programs.state.open")
	default:
		row.State, row.StateName = "closed", l.T("console.programs.state.closed")
	}
	var parts, before []string
	for _, rem := range p.ReminderList() {
		if rem.AtOpening {
			parts = append(parts, l.T("console.programs.reminders.opening"))
		} else {
			before = append(before, programs.FormatReminder(rem))
		}
	}
	if len(before) > 0 {
		parts = append(parts, l.T("console.programs.reminders.before", map[string]any{"Offsets": strings.Join(before, ", ")}))
	}
	row.Reminders = strings.Join(parts, "; ")
	if len(parts) == 0 {
		row.Reminders = l.T("console.programs.reminders.none")
	}
	if p.Reminders == nil {
		row.Reminders += " " + l.T("console.programs.reminders.default")
	}
	return row
}

// formOf is the form that leaves p as it is.
func formOf(p bot.Program) programForm {
	f := programForm{NameVI: p.Name.VI, NameEN: p.Name.EN, DescVI: p.Description.VI, DescEN: p.Description.EN,
		Opens: p.Opens.In(zone()).Format(formTime), Deadline: p.Deadline.In(zone()).Format(formTime)}
	var before []string
	for _, rem := range p.ReminderList() {
		if rem.AtOpening {
			f.AtOpening = true
		} else {
			before = append(before, programs.FormatReminder(rem))
		}
	}
	f.Before = strings.Join(before, ", ")
	return f
}

// program finds the program of the page's path, as stored and as the file has it.
func (s *Server) program(w http.ResponseWriter, r *http.Request, c caller) (p, file bot.Program, edited, ok bool) {
	ps, edits, err := s.readPrograms(r.Context())
	if err != nil {
		s.log.Error("programs", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return bot.Program{}, bot.Program{}, false, false
	}
	id := r.PathValue("id")
	p, found := ps.Get(id)
	file, inFile := s.cfg.ProgramEdits.File().Get(id)
	if !found || !inFile {
		s.errorPage(w, r, c, http.StatusNotFound, "console.programs.unknown")
		return bot.Program{}, bot.Program{}, false, false
	}
	_, edited = edits[id]
	return p, file, edited, true
}

func (s *Server) programPage(w http.ResponseWriter, r *http.Request, c caller) {
	p, file, edited, ok := s.program(w, r, c)
	if !ok {
		return
	}
	v := s.programPageView(w, r, "program", c, "console.programs.edit")
	s.renderProgram(w, http.StatusOK, v, p, file, edited, formOf(p))
}

func (s *Server) renderProgram(w http.ResponseWriter, status int, v view, p, file bot.Program, edited bool, f programForm) {
	one, fromFile := s.programLine(p, edited, v.Lang), s.programLine(file, false, v.Lang)
	v.Program.One, v.Program.File, v.Program.Form = &one, &fromFile, f
	v.Title += ": " + one.Name
	s.render(w, status, "program", v)
}

// programSavePage stores the form's edit, records what it changed and goes back to
// the list; a form that cannot stand is shown again, as typed, with why.
func (s *Server) programSavePage(w http.ResponseWriter, r *http.Request, c caller) {
	p, file, edited, ok := s.program(w, r, c)
	if !ok {
		return
	}
	pf := r.PostForm
	f := programForm{NameVI: pf.Get("name_vi"), NameEN: pf.Get("name_en"), DescVI: pf.Get("desc_vi"), DescEN: pf.Get("desc_en"),
		Opens: strings.TrimSpace(pf.Get("opens")), Deadline: strings.TrimSpace(pf.Get("deadline")),
		AtOpening: pf.Get("at_opening") != "", Before: pf.Get("before")}
	e, msgID := editOf(f)
	if msgID == "" {
		if err := s.cfg.ProgramEdits.Put(r.Context(), p.ID, e); err != nil {
			if errors.Is(err, programs.ErrUnknown) {
				s.errorPage(w, r, c, http.StatusNotFound, "console.programs.unknown")
				return
			}
			s.log.Error("programs put", "program", p.ID, "err", err)
			s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
			return
		}
		s.audit(r, c.member.Email, AuditProgramEdit, bot.AuditEntry{Detail: p.ID + ": " + changes(p, e)})
		http.Redirect(w, r, Prefix+"programs?flash=program_saved", http.StatusSeeOther)
		return
	}
	v := s.programPageView(w, r, "program", c, "console.programs.edit")
	s.refuse(&v, msgID)
	s.renderProgram(w, http.StatusBadRequest, v, p, file, edited, f)
}

// editOf reads the form into an edit, or names the message that says why it cannot
// stand.
func editOf(f programForm) (programs.Edit, string) {
	e := programs.Edit{Name: bot.Text{VI: strings.TrimSpace(f.NameVI), EN: strings.TrimSpace(f.NameEN)},
		Description: bot.Text{VI: strings.TrimSpace(f.DescVI), EN: strings.TrimSpace(f.DescEN)}}
	if e.Name.VI == "" || e.Name.EN == "" {
		return e, "console.programs.error.name"
	}
	if utf8.RuneCountInString(e.Name.VI) > programNameMax || utf8.RuneCountInString(e.Name.EN) > programNameMax ||
		utf8.RuneCountInString(e.Description.VI) > programDescriptionMax || utf8.RuneCountInString(e.Description.EN) > programDescriptionMax {
		return e, "console.programs.error.long"
	}
	var err1, err2 error
	e.Opens, err1 = time.ParseInLocation(formTime, f.Opens, zone())
	e.Deadline, err2 = time.ParseInLocation(formTime, f.Deadline, zone())
	if err1 != nil || err2 != nil {
		return e, "console.programs.error.date"
	}
	if !e.Deadline.After(e.Opens) {
		return e, "console.programs.error.order"
	}
	offsets := strings.FieldsFunc(f.Before, func(r rune) bool { return r == ',' || r == ';' || r == ' ' })
	if f.AtOpening && !slices.Contains(offsets, programs.Opening) {
		offsets = append([]string{programs.Opening}, offsets...)
	}
	rs, err := programs.ParseReminders(offsets)
	if err != nil {
		return e, "console.programs.error.reminders"
	}
	e.Reminders = programs.FormatReminders(rs)
	return e, ""
}

// changes names what e changes of p, for the audit trail: "deadline 15/01/2027 17:00;
// reminders opening, 3d".
func changes(p bot.Program, e programs.Edit) string {
	var out []string
	if e.Name != p.Name {
		out = append(out, "name")
	}
	if e.Description != p.Description {
		out = append(out, "description")
	}
	if !e.Opens.Equal(p.Opens) {
		out = append(out, "opens "+e.Opens.In(zone()).Format("02/01/2006 15:04"))
	}
	if !e.Deadline.Equal(p.Deadline) {
		out = append(out, "deadline "+e.Deadline.In(zone()).Format("02/01/2006 15:04"))
	}
	if was := programs.FormatReminders(p.ReminderList()); !slices.Equal(was, e.Reminders) {
		now := strings.Join(e.Reminders, ", ")
		if now == "" {
			now = "none"
		}
		out = append(out, "reminders "+now)
	}
	if len(out) == 0 {
		return "unchanged"
	}
	return strings.Join(out, "; ")
}

// programResetPage deletes a program's edit: the programs file decides it again.
func (s *Server) programResetPage(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("id")
	ok, err := s.cfg.ProgramEdits.Reset(r.Context(), id)
	switch {
	case err != nil:
		s.log.Error("programs reset", "program", id, "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
	case !ok:
		s.errorPage(w, r, c, http.StatusNotFound, "console.programs.unknown")
	default:
		s.audit(r, c.member.Email, AuditProgramReset, bot.AuditEntry{Detail: id})
		http.Redirect(w, r, Prefix+"programs?flash=program_reset", http.StatusSeeOther)
	}
}
