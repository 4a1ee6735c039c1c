package console

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/console/workday"
)

// The holidays page: the working-day calendar's exceptions for this year and the
// next, and the admins' edits laid over the holidays file. Several gateway processes
// share the edits in Redis; each console re-reads them every HolidaysRefresh, and at
// once after an edit of its own.

// HolidayEdits keeps the admins' edits of the calendar by date ("2026-02-17"), each
// as workday.Edit.String() writes it: redisstore.Holidays.
type HolidayEdits interface {
	List(ctx context.Context) (map[string]string, error)
	Put(ctx context.Context, date, value string) error
	Delete(ctx context.Context, date string) (bool, error)
}

// HolidaysRefresh is how long a console keeps the edits it read before it reads
// them again: another process's edit shows in the clocks after that long at most.
const HolidaysRefresh = 30 * time.Second

// Actions of the audit trail for the calendar's edits.
const (
	AuditHolidayPut    = "holiday_put"
	AuditHolidayDelete = "holiday_delete"
)

// holidayCache is the calendar with the edits laid over it, as last read.
type holidayCache struct {
	mu    sync.Mutex
	cal   *workday.Calendar
	edits map[string]workday.Edit
	read  time.Time
}

// calendar is the calendar the clocks run on: the configured one with the admins'
// edits over it. A failure to read the edits keeps the last calendar read (the file's
// at first) until the next refresh.
func (s *Server) calendar() *workday.Calendar {
	if s.cfg.Holidays == nil {
		return s.cfg.Calendar
	}
	s.hol.mu.Lock()
	defer s.hol.mu.Unlock()
	now := s.cfg.Now()
	if s.hol.cal != nil && now.Sub(s.hol.read) < HolidaysRefresh && !now.Before(s.hol.read) {
		return s.hol.cal
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cal, edits, err := s.readEdits(ctx)
	s.hol.read = now
	if err != nil {
		s.log.Error("holidays: reading the edits", "err", err)
		if s.hol.cal == nil {
			s.hol.cal = s.cfg.Calendar
		}
		return s.hol.cal
	}
	s.hol.cal, s.hol.edits = cal, edits
	return cal
}

// readEdits reads the edits and lays them over the configured calendar. An edit that
// does not parse is logged and left out.
func (s *Server) readEdits(ctx context.Context) (*workday.Calendar, map[string]workday.Edit, error) {
	raw, err := s.cfg.Holidays.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	edits := make(map[string]workday.Edit, len(raw))
	list := make([]workday.Edit, 0, len(raw))
	for date, value := range raw {
		e, err := workday.ParseEdit(date, value)
		if err != nil {
			s.log.Warn("holidays: an edit is left out", "date", date, "err", err)
			continue
		}
		edits[date] = e
		list = append(list, e)
	}
	cal, _ := s.cfg.Calendar.With(list)
	return cal, edits, nil
}

// editsNow reads the edits afresh (the page shows what is stored, not the cache) and
// refreshes the cache with them.
func (s *Server) editsNow(ctx context.Context) (*workday.Calendar, map[string]workday.Edit, error) {
	if s.cfg.Holidays == nil {
		return s.cfg.Calendar, nil, nil
	}
	cal, edits, err := s.readEdits(ctx)
	if err != nil {
		return nil, nil, err
	}
	s.hol.mu.Lock()
	s.hol.cal, s.hol.edits, s.hol.read = cal, edits, s.cfg.Now()
	s.hol.mu.Unlock()
	return cal, edits, nil
}

// holidayYear is one year's exceptions, as the page lists them.
type holidayYear struct {
	Year int
	Days []holidayRow
}

// holidayRow is one day of the page: Edited when an admin's edit made it so, rather
// than the holidays file.
type holidayRow struct {
	Date, Kind, Name string
	Weekday          time.Weekday
	Edited           bool
	// Day is the weekday's name, in the page's language.
	Day string
	// Shown is the date as the page shows it: "16/02/2026".
	Shown string
}

func rowOf(date, kind, name string, edited bool) holidayRow {
	d, _ := time.ParseInLocation(time.DateOnly, date, zone())
	return holidayRow{Date: date, Kind: kind, Name: name, Weekday: d.Weekday(), Edited: edited, Shown: d.Format("02/01/2006")}
}

// holidaysJSON is the calendar as the API gives it.
type holidaysJSON struct {
	Days  []workday.Exception `json:"days"`
	Edits []workday.Edit      `json:"edits"`
}

func (s *Server) apiHolidays(w http.ResponseWriter, r *http.Request, _ bot.StaffMember) {
	cal, edits, err := s.editsNow(r.Context())
	if err != nil {
		s.storeFailed(w, "holidays", err)
		return
	}
	out := holidaysJSON{Days: []workday.Exception{}, Edits: []workday.Edit{}}
	year := s.cfg.Now().In(zone()).Year()
	out.Days = append(append(out.Days, cal.Days(year)...), cal.Days(year+1)...)
	for _, e := range sortedEdits(edits) {
		if strings.HasPrefix(e.Date, fmt.Sprintf("%04d-", year)) || strings.HasPrefix(e.Date, fmt.Sprintf("%04d-", year+1)) {
			out.Edits = append(out.Edits, e)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) holidaysPage(w http.ResponseWriter, r *http.Request, c caller) {
	v := s.adminPage(w, r, "holidays", c, "console.admin.holidays.title")
	s.renderHolidays(w, r, c, http.StatusOK, v)
}

func (s *Server) renderHolidays(w http.ResponseWriter, r *http.Request, c caller, status int, v view) {
	cal, edits, err := s.editsNow(r.Context())
	if err != nil {
		s.log.Error("holidays", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	year := s.cfg.Now().In(zone()).Year()
	for _, y := range []int{year, year + 1} {
		hy := holidayYear{Year: y}
		for _, d := range cal.Days(y) {
			_, edited := edits[d.Date]
			hy.Days = append(hy.Days, rowOf(d.Date, d.Kind, d.Name, edited))
		}
		v.Admin.Years = append(v.Admin.Years, hy)
	}
	for _, e := range sortedEdits(edits) {
		if e.Kind == workday.Normal {
			v.Admin.Taken = append(v.Admin.Taken, rowOf(e.Date, e.Kind, "", true))
		}
	}
	l := s.cat.For(v.Lang)
	for i := range v.Admin.Years {
		for j := range v.Admin.Years[i].Days {
			d := &v.Admin.Years[i].Days[j]
			d.Day = l.T(weekdayMsg[d.Weekday])
		}
	}
	for i := range v.Admin.Taken {
		v.Admin.Taken[i].Day = l.T(weekdayMsg[v.Admin.Taken[i].Weekday])
	}
	v.Admin.Editable = s.cfg.Holidays != nil
	s.render(w, status, "holidays", v)
}

// holidayAddPage adds a day off or a day worked (or renames one).
func (s *Server) holidayAddPage(w http.ResponseWriter, r *http.Request, c caller) {
	e := workday.Edit{Date: strings.TrimSpace(r.PostFormValue("date")), Kind: r.PostFormValue("kind"),
		Name: strings.TrimSpace(r.PostFormValue("name"))}
	if e.Kind == workday.Normal || e.Validate() != nil || e.Name == "" {
		v := s.adminPage(w, r, "holidays", c, "console.admin.holidays.title")
		s.refuse(&v, "console.admin.holidays.invalid")
		s.renderHolidays(w, r, c, http.StatusBadRequest, v)
		return
	}
	s.holidayEdit(w, r, c, e, "holiday_saved")
}

// holidayRemovePage takes a day out of the calendar: an edit of an admin is deleted,
// a day of the holidays file is overridden (Normal).
func (s *Server) holidayRemovePage(w http.ResponseWriter, r *http.Request, c caller) {
	date := r.PathValue("date")
	_, edits, err := s.editsNow(r.Context())
	if err != nil {
		s.log.Error("holidays", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	if _, edited := edits[date]; edited && !s.cfg.Calendar.Listed(date) {
		s.holidayRestorePage(w, r, c)
		return
	}
	if !s.cfg.Calendar.Listed(date) {
		s.errorPage(w, r, c, http.StatusNotFound, "console.admin.holidays.unknown")
		return
	}
	s.holidayEdit(w, r, c, workday.Edit{Date: date, Kind: workday.Normal}, "holiday_taken")
}

// holidayRestorePage deletes the edit of a day: the holidays file decides it again.
func (s *Server) holidayRestorePage(w http.ResponseWriter, r *http.Request, c caller) {
	date := r.PathValue("date")
	ok, err := s.cfg.Holidays.Delete(r.Context(), date)
	switch {
	case err != nil:
		s.log.Error("holidays delete", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
	case !ok:
		s.errorPage(w, r, c, http.StatusNotFound, "console.admin.holidays.unknown")
	default:
		s.invalidateCalendar()
		s.audit(r, c.member.Email, AuditHolidayDelete, bot.AuditEntry{Detail: date})
		http.Redirect(w, r, Prefix+"holidays?flash=holiday_back", http.StatusSeeOther)
	}
}

// holidayEdit stores e, records it and goes back to the page.
func (s *Server) holidayEdit(w http.ResponseWriter, r *http.Request, c caller, e workday.Edit, flash string) {
	if err := s.cfg.Holidays.Put(r.Context(), e.Date, e.String()); err != nil {
		s.log.Error("holidays put", "err", err)
		s.errorPage(w, r, c, http.StatusServiceUnavailable, "console.unavailable")
		return
	}
	s.invalidateCalendar()
	s.audit(r, c.member.Email, AuditHolidayPut, bot.AuditEntry{Detail: e.Date + " " + e.String()})
	http.Redirect(w, r, Prefix+"holidays?flash="+flash, http.StatusSeeOther)
}

// invalidateCalendar makes the next clock read the edits again.
func (s *Server) invalidateCalendar() {
	s.hol.mu.Lock()
	s.hol.cal = nil
	s.hol.mu.Unlock()
}

func sortedEdits(m map[string]workday.Edit) []workday.Edit {
	out := make([]workday.Edit, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b workday.Edit) int { return strings.Compare(a.Date, b.Date) })
	return out
}
