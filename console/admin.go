package console

import (
	"net/http"

	"github.com/sangkien/sangkien/bot"
)

// This file wires the admin pages: staff accounts (adminstaff.go), canned answers
// (admincanned.go), the audit trail (adminaudit.go) and the holidays of the
// working-day calendar (adminholidays.go).

func (s *Server) adminRoutes(
	api func(string, bot.Role, func(http.ResponseWriter, *http.Request, bot.StaffMember)),
	page func(string, bot.Role, func(http.ResponseWriter, *http.Request, caller)),
) {
	api("GET /console/api/staff", bot.RoleAdmin, s.apiStaff)
	api("POST /console/api/staff", bot.RoleAdmin, s.apiStaffAdd)
	for _, change := range []string{"disable", "password", "token"} {
		api("POST /console/api/staff/{email}/"+change, bot.RoleAdmin, s.apiStaffChange(change))
	}
	page("GET /console/staff", bot.RoleAdmin, s.staffPage)
	page("POST /console/staff", bot.RoleAdmin, s.staffAddPage)
	for _, change := range []string{"disable", "password", "token"} {
		page("POST /console/staff/{email}/"+change, bot.RoleAdmin, s.staffChangePage(change))
	}

	page("GET /console/canned", bot.RoleOperator, s.cannedPage)
	page("POST /console/canned", bot.RoleAdmin, s.cannedPutPage)
	page("POST /console/canned/{id}/delete", bot.RoleAdmin, s.cannedDeletePage)

	page("GET /console/audit", bot.RoleAdmin, s.auditPage)

	api("GET /console/api/holidays", bot.RoleAdmin, s.apiHolidays)
	page("GET /console/holidays", bot.RoleAdmin, s.holidaysPage)
	if s.cfg.Holidays != nil {
		page("POST /console/holidays", bot.RoleAdmin, s.holidayAddPage)
		page("POST /console/holidays/{date}/remove", bot.RoleAdmin, s.holidayRemovePage)
		page("POST /console/holidays/{date}/restore", bot.RoleAdmin, s.holidayRestorePage)
	}
}

// adminView is what the admin pages show, besides the view every page gets.
type adminView struct {
	// The staff page's:
	Staff        []staffJSON
	MinPassword  int
	PasswordHelp string
	Roles        []bot.Role
	// Token is a new API token, shown once, for TokenFor.
	Token, TokenFor string

	// The canned answers page's:
	CannedList []bot.CannedAnswer
	// Form holds what an admin typed into a canned answer the store refused, so that
	// it is not lost.
	Form *bot.CannedAnswer

	// The audit page's:
	Entries []bot.AuditEntry
	Query   auditFilter
	Actions []string
	// ActionNames are the actions as the page names them, by action.
	ActionNames  map[string]string
	Next, Newest string // links to the next (older) page and back to the first

	// The holidays page's:
	Years    []holidayYear
	Taken    []holidayRow // days of the file taken out by an edit
	Editable bool
}

// adminFlash are the notices of the admin pages, after a redirect (?flash=) or
// shown at once (the ids are literals, so that the locales test finds them).
var adminFlash = map[string]string{
	"staff_added":    "console.admin.done.staff_added",
	"staff_disabled": "console.admin.done.staff_disabled",
	"staff_password": "console.admin.done.staff_password",
	"canned_saved":   "console.admin.done.canned_saved",
	"canned_deleted": "console.admin.done.canned_deleted",
	"holiday_saved":  "console.admin.done.holiday_saved",
	"holiday_taken":  "console.admin.done.holiday_taken",
	"holiday_back":   "console.admin.done.holiday_back",
}

// adminPage starts an admin page's view: its title and its notice, if any.
func (s *Server) adminPage(w http.ResponseWriter, r *http.Request, page string, c caller, titleID string) view {
	v := s.newView(w, r, page, c)
	v.Title, v.Admin = s.cat.For(v.Lang).T(titleID), &adminView{}
	if id, ok := adminFlash[r.URL.Query().Get("flash")]; ok {
		v.Flash, v.FlashKind = s.cat.For(v.Lang).T(id), "ok"
	}
	return v
}

// refuse sets a page's notice to the message msgID, as a failure.
func (s *Server) refuse(v *view, msgID string) {
	v.Flash, v.FlashKind = s.cat.For(v.Lang).T(msgID), "bad"
}
